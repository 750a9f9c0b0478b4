//===- Ternary.cpp - ternary quantizers on dense float matrices -----------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Ternary.h"

#include <algorithm>
#include <cmath>

namespace terminator::solvers {

float TernaryMatrix::decode(int64_t r, int64_t c) const {
  int64_t g = r * groupsPerRow() + c / groupSize;
  float v = scales[g] * float(codes[r * cols + c]);
  if (!offsets.empty())
    v += offsets[g];
  return v;
}

std::vector<float> TernaryMatrix::decodeAll() const {
  std::vector<float> out(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] = decode(r, c);
  return out;
}

/// Rounds w / s to the nearest of {-1, 0, 1}; s = 0 gives 0.
static int8_t roundTernary(float w, float s) {
  if (!(s > 0.0f))
    return 0;
  float t = std::nearbyint(w / s);
  return int8_t(std::clamp(t, -1.0f, 1.0f));
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
          roundTernary(w.at(r, c), q.scales[size_t(r)]);
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
