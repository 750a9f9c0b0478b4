//===- Als.cpp - alternating least squares for W ≈ αT ---------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Als.h"
#include "passes/solvers/Internal.h"

#include <cmath>
#include <vector>

namespace terminator::solvers {

namespace {

/// Rank-1 factors of |W| ≈ σ u vᵀ by power iteration from v = 1 (|W| is
/// non-negative, so its Perron vectors are too and the start is never
/// orthogonal to them).
struct RankOne {
  double sigma = 0.0;
  std::vector<double> u, v;
};

RankOne rankOneOfAbs(MatrixView w, int iterations) {
  RankOne f;
  f.u.assign(size_t(w.rows), 0.0);
  f.v.assign(size_t(w.cols),
             1.0 / std::sqrt(double(std::max<int64_t>(1, w.cols))));
  for (int it = 0; it < iterations; ++it) {
    // u = |W| v / ‖|W| v‖.
    double norm = 0.0;
    for (int64_t r = 0; r < w.rows; ++r) {
      double dot = 0.0;
      for (int64_t c = 0; c < w.cols; ++c)
        dot += std::fabs(double(w.at(r, c))) * f.v[size_t(c)];
      f.u[size_t(r)] = dot;
      norm += dot * dot;
    }
    norm = std::sqrt(norm);
    if (norm == 0.0)
      return f;
    for (double &x : f.u)
      x /= norm;
    // v = |W|ᵀ u / σ, σ = ‖|W|ᵀ u‖.
    std::fill(f.v.begin(), f.v.end(), 0.0);
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c)
        f.v[size_t(c)] += std::fabs(double(w.at(r, c))) * f.u[size_t(r)];
    norm = 0.0;
    for (double x : f.v)
      norm += x * x;
    f.sigma = std::sqrt(norm);
    for (double &x : f.v)
      x /= f.sigma;
  }
  return f;
}

double meanOf(const std::vector<double> &x, int64_t begin, int64_t end) {
  double sum = 0.0;
  for (int64_t i = begin; i < end; ++i)
    sum += x[size_t(i)];
  return end > begin ? sum / double(end - begin) : 0.0;
}

} // namespace

Result<TernaryMatrix> als(MatrixView w, const AlsOptions &options) {
  if (options.maxIterations < 1)
    return detail::makeError("als needs maxIterations >= 1, but has ",
                             options.maxIterations);
  if (options.groupSize < 0)
    return detail::makeError("als needs groupSize >= 0, but has ",
                             options.groupSize);
  if (options.groupSize > 0 && options.granularity == Granularity::Tensor)
    return detail::makeError("als group size ", options.groupSize,
                             " needs row granularity");
  if (!(options.tolerance >= 0.0))
    return detail::makeError("als needs tolerance >= 0, but has ",
                             options.tolerance);
  if (options.init == AlsInit::PowerIteration && options.powerIterations < 1)
    return detail::makeError("als needs powerIterations >= 1, but has ",
                             options.powerIterations);
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;

  const int64_t n = w.rows, k = w.cols;
  RankOne seed;
  if (options.init == AlsInit::PowerIteration)
    seed = rankOneOfAbs(w, options.powerIterations);

  if (options.granularity == Granularity::Tensor) {
    TernaryMatrix q = TernaryMatrix::zeros(n, k, k, /*withOffsets=*/false);
    float alpha0 = 0.0f; // absmean
    if (options.init == AlsInit::PowerIteration)
      alpha0 = float(seed.sigma * meanOf(seed.u, 0, n) * meanOf(seed.v, 0, k));
    // The whole tensor is one contiguous group.
    float alpha =
        detail::fitSymmetric(w.data, n * k, alpha0, options.maxIterations,
                             options.tolerance, q.codes.data());
    std::fill(q.scales.begin(), q.scales.end(), alpha);
    return q;
  }

  TernaryMatrix q =
      TernaryMatrix::zeros(n, k, options.groupSize, /*withOffsets=*/false);
  const int64_t groups = q.groupsPerRow();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t c0 = g * q.groupSize, c1 = std::min(k, c0 + q.groupSize);
      float alpha0 = 0.0f;
      if (options.init == AlsInit::PowerIteration)
        alpha0 = float(seed.sigma * seed.u[size_t(r)] * meanOf(seed.v, c0, c1));
      q.scales[size_t(r * groups + g)] = detail::fitSymmetric(
          w.data + r * k + c0, c1 - c0, alpha0, options.maxIterations,
          options.tolerance, q.codes.data() + r * k + c0);
    }
  return q;
}

} // namespace terminator::solvers
