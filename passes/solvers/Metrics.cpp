//===- Metrics.cpp - how far a ternary matrix is from its weights ---------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Metrics.h"
#include "passes/solvers/Internal.h"

#include <cmath>
#include <random>
#include <vector>

namespace terminator::solvers {

double spectralNorm(MatrixView a, const PowerIterationOptions &options) {
  if (a.rows <= 0 || a.cols <= 0)
    return 0.0;
  std::mt19937_64 rng(options.seed);
  std::vector<double> v(size_t(a.cols)), u(size_t(a.rows));
  // Raw engine bits, so the start is the same with every standard library.
  for (double &x : v)
    x = double(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0;

  auto normalize = [](std::vector<double> &x) {
    double norm = 0.0;
    for (double e : x)
      norm += e * e;
    norm = std::sqrt(norm);
    if (norm > 0.0)
      for (double &e : x)
        e /= norm;
    return norm;
  };
  normalize(v);

  double sigma = 0.0;
  for (int it = 0; it < std::max(1, options.maxIterations); ++it) {
    // u = A v, σ = ‖u‖.
    double sumSq = 0.0;
    for (int64_t r = 0; r < a.rows; ++r) {
      const float *row = a.data + r * a.cols;
      // Four partial sums, so that the loop vectorizes.
      double part[4] = {0.0, 0.0, 0.0, 0.0};
      int64_t c = 0;
      for (; c + 4 <= a.cols; c += 4)
        for (int64_t l = 0; l < 4; ++l)
          part[l] += double(row[c + l]) * v[size_t(c + l)];
      for (; c < a.cols; ++c)
        part[0] += double(row[c]) * v[size_t(c)];
      double dot = (part[0] + part[1]) + (part[2] + part[3]);
      u[size_t(r)] = dot;
      sumSq += dot * dot;
    }
    double previous = sigma;
    sigma = std::sqrt(sumSq);
    if (sigma == 0.0)
      return 0.0;
    if (it > 0 && std::fabs(sigma - previous) <= options.tolerance * sigma)
      break;
    // v = Aᵀ u / ‖Aᵀ u‖.
    std::fill(v.begin(), v.end(), 0.0);
    for (int64_t r = 0; r < a.rows; ++r) {
      const float *row = a.data + r * a.cols;
      double ur = u[size_t(r)];
      for (int64_t c = 0; c < a.cols; ++c)
        v[size_t(c)] += double(row[c]) * ur;
    }
    if (normalize(v) == 0.0)
      return sigma;
  }
  return sigma;
}

/// W − Ŵ, row-major.
static std::vector<float> residual(MatrixView w, const TernaryMatrix &q) {
  std::vector<float> e = q.decodeAll();
  for (int64_t i = 0, n = w.rows * w.cols; i < n; ++i)
    e[size_t(i)] = w.data[i] - e[size_t(i)];
  return e;
}

/// a / b, with 0/0 = 0 and x/0 = infinity.
static double ratio(double a, double b) {
  if (b == 0.0)
    return a == 0.0 ? 0.0 : INFINITY;
  return a / b;
}

Result<double> spectralNormError(MatrixView w, const TernaryMatrix &q,
                                 const PowerIterationOptions &options) {
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (auto error = detail::checkSameShape(w, q))
    return *error;
  std::vector<float> e = residual(w, q);
  double errorNorm = spectralNorm({e.data(), w.rows, w.cols}, options);
  return ratio(errorNorm, spectralNorm(w, options));
}

/// Σ_r a_rᵀ H a_r over the rows of the rows x cols matrix `a`.
static double traceForm(const float *a, int64_t rows, int64_t cols,
                        const float *h) {
  std::vector<double> perRow(static_cast<size_t>(rows));
  detail::bilinearRows(a, a, rows, cols, h, perRow.data());
  double sum = 0.0;
  for (double x : perRow)
    sum += x;
  return sum;
}

Result<double> outputError(MatrixView w, const TernaryMatrix &q, MatrixView h) {
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (auto error = detail::checkSameShape(w, q))
    return *error;
  if (auto error = detail::checkGram(h, w.cols))
    return *error;
  std::vector<float> e = residual(w, q);
  return traceForm(e.data(), w.rows, w.cols, h.data);
}

Result<double> relativeOutputError(MatrixView w, const TernaryMatrix &q,
                                   MatrixView h) {
  Result<double> absolute = outputError(w, q, h);
  if (!absolute)
    return absolute;
  return ratio(*absolute, traceForm(w.data, w.rows, w.cols, h.data));
}

CodeBalance codeBalance(const TernaryMatrix &q) {
  CodeBalance balance;
  if (q.codes.empty())
    return balance;
  int64_t counts[3] = {0, 0, 0};
  for (int8_t c : q.codes)
    if (c >= -1 && c <= 1)
      ++counts[c + 1];
  double n = double(q.codes.size());
  balance.minusOne = double(counts[0]) / n;
  balance.zero = double(counts[1]) / n;
  balance.plusOne = double(counts[2]) / n;
  return balance;
}

} // namespace terminator::solvers
