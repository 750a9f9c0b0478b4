//===- Ternary.cpp - ternary quantizers on dense float matrices -----------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Ternary.h"
#include "passes/solvers/Internal.h"

#include <algorithm>
#include <cmath>

namespace terminator::solvers {

TernaryMatrix TernaryMatrix::zeros(int64_t rows, int64_t cols,
                                   int64_t groupSize, bool withOffsets) {
  TernaryMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.groupSize = groupSize > 0 ? groupSize : cols;
  q.codes.assign(size_t(rows * cols), 0);
  q.scales.assign(size_t(rows * q.groupsPerRow()), 0.0f);
  if (withOffsets)
    q.offsets.assign(q.scales.size(), 0.0f);
  return q;
}

float TernaryMatrix::decode(int64_t r, int64_t c) const {
  int64_t g = groupIndex(r, c);
  float v = scales[g] * float(codes[r * cols + c]);
  if (!offsets.empty())
    v += offsets[g];
  return v;
}

std::vector<float> TernaryMatrix::decodeAll() const {
  std::vector<float> out(size_t(rows * cols));
  int64_t groups = groupsPerRow();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      float scale = scales[size_t(r * groups + g)];
      float offset = offsets.empty() ? 0.0f : offsets[size_t(r * groups + g)];
      for (int64_t c = g * groupSize; c < std::min(cols, (g + 1) * groupSize);
           ++c) {
        // Two statements, as in decode(), so that no FMA contraction makes
        // the two disagree in the last bit.
        float v = scale * float(codes[size_t(r * cols + c)]);
        out[size_t(r * cols + c)] = offsets.empty() ? v : v + offset;
      }
    }
  return out;
}

TernaryMatrix absmean(MatrixView w, Granularity granularity) {
  TernaryMatrix q;
  q.rows = w.rows;
  q.cols = w.cols;
  q.groupSize = w.cols;
  q.codes.resize(size_t(w.rows * w.cols));
  q.scales.resize(size_t(w.rows));

  auto meanAbs = [&](int64_t rowBegin, int64_t rowEnd) {
    double sum = 0.0;
    for (int64_t r = rowBegin; r < rowEnd; ++r)
      for (int64_t c = 0; c < w.cols; ++c)
        sum += std::fabs(double(w.at(r, c)));
    int64_t n = (rowEnd - rowBegin) * w.cols;
    return n == 0 ? 0.0f : float(sum / double(n));
  };
  if (granularity == Granularity::Tensor)
    std::fill(q.scales.begin(), q.scales.end(), meanAbs(0, w.rows));
  else
    for (int64_t r = 0; r < w.rows; ++r)
      q.scales[size_t(r)] = meanAbs(r, r + 1);

  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      q.codes[size_t(r * w.cols + c)] =
          detail::roundTernary(w.at(r, c), q.scales[size_t(r)]);
  return q;
}

Result<TernaryMatrix> symmetricInt(MatrixView w, unsigned bits,
                                   int64_t groupSize) {
  if (bits != 4 && bits != 8)
    return Error{"expects bits = 4 or 8, but got " + std::to_string(bits)};
  if (groupSize < 0)
    return Error{"expects a group size >= 0, but got " +
                 std::to_string(groupSize)};
  TernaryMatrix q = TernaryMatrix::zeros(w.rows, w.cols, groupSize,
                                         /*withOffsets=*/false);
  float qmax = float((1 << (bits - 1)) - 1);
  int64_t g = q.groupSize;
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c0 = 0; c0 < w.cols; c0 += g) {
      int64_t c1 = std::min(w.cols, c0 + g);
      float m = 0.0f;
      for (int64_t c = c0; c < c1; ++c)
        m = std::max(m, std::fabs(w.at(r, c)));
      float s = m / qmax;
      q.scales[size_t(q.groupIndex(r, c0))] = s;
      for (int64_t c = c0; c < c1; ++c)
        q.codes[size_t(r * w.cols + c)] =
            s > 0.0f ? int8_t(std::clamp(std::nearbyint(w.at(r, c) / s), -qmax,
                                         qmax))
                     : int8_t(0);
    }
  return q;
}

double relativeFrobeniusError(MatrixView w, const TernaryMatrix &q) {
  double err = 0.0, norm = 0.0;
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c) {
      double x = w.at(r, c), d = x - double(q.decode(r, c));
      err += d * d;
      norm += x * x;
    }
  if (norm == 0.0)
    return err == 0.0 ? 0.0 : INFINITY;
  return std::sqrt(err / norm);
}

double sparsity(const TernaryMatrix &q) {
  if (q.codes.empty())
    return 0.0;
  return double(std::count(q.codes.begin(), q.codes.end(), int8_t(0))) /
         double(q.codes.size());
}

} // namespace terminator::solvers
