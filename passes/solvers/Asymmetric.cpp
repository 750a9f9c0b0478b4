//===- Asymmetric.cpp - PT²-LLM asymmetric ternarization ------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Asymmetric.h"
#include "passes/solvers/Als.h"
#include "passes/solvers/Internal.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace terminator::solvers {

namespace {

/// Where fitBlock() writes one fit: codes with row stride `ldt`, α and μ of
/// row r at alpha[r * stride], mu[r * stride].
struct FitOutput {
  int8_t *codes;
  int64_t ldt;
  float *alpha;
  float *mu;
  int64_t stride;
};

/// The unweighted 2×2 least squares for (α, μ) given t (see itf()).
void solveAffine(const float *w, const int8_t *t, int64_t m, float &alpha,
                 float &mu) {
  int64_t sumT = 0, sumTT = 0;
  double sumW = 0.0, sumWT = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    sumT += t[i];
    sumTT += t[i] * t[i];
    sumW += double(w[i]);
    sumWT += double(w[i]) * double(t[i]);
  }
  // Integer, so exactly zero when (and only when) all t are equal.
  int64_t den = m * sumTT - sumT * sumT;
  if (den != 0) {
    alpha = float((double(m) * sumWT - double(sumT) * sumW) / double(den));
    mu = float((double(sumTT) * sumW - double(sumT) * sumWT) / double(den));
  } else {
    mu = m == 0 ? 0.0f
                : float((sumW - double(alpha) * double(sumT)) / double(m));
  }
}

/// Makes α >= 0 by negating α and t (αt is unchanged).
void makeScalePositive(float &alpha, int8_t *t, int64_t m) {
  if (alpha >= 0.0f)
    return;
  alpha = -alpha;
  for (int64_t i = 0; i < m; ++i)
    t[i] = int8_t(-t[i]);
}

/// Σ (w − αt − μ)², the objective of ITF.
double affineError(const float *w, const int8_t *t, int64_t m, float alpha,
                   float mu) {
  double sum = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    double e = double(w[i]) - double(alpha) * double(t[i]) - double(mu);
    sum += e * e;
  }
  return sum;
}

/// The ITF alternation from (α, μ, t) until t is stable.
void alternate(const float *w, int64_t m, int maxIterations, int8_t *t,
               float &alpha, float &mu) {
  for (int it = 0; it < maxIterations; ++it) {
    solveAffine(w, t, m, alpha, mu);
    makeScalePositive(alpha, t, m);
    int64_t changed = 0;
    for (int64_t i = 0; i < m; ++i) {
      int8_t ti = detail::roundTernary(w[i] - mu, alpha);
      changed += ti != t[i];
      t[i] = ti;
    }
    if (changed == 0)
      return; // (α, μ) is already the least squares fit of this t.
  }
  solveAffine(w, t, m, alpha, mu);
  makeScalePositive(alpha, t, m);
}

/// ITF on one group of m values, from three starts, keeping the best end:
///  * the symmetric fit of als() (μ = 0), so ITF never ends above it;
///  * the centred fit: μ = mean(w) and the symmetric fit of w − mean(w);
///  * the range: μ = (max + min) / 2, α = (max − min) / 2, whose levels are
///    the extremes and the midrange, so an exactly representable group is
///    recovered whatever its code balance.
/// `scratch` and `scratchCodes` are reused between calls.
void fitItf(const float *w, int64_t m, int maxIterations, int8_t *t,
            float &alpha, float &mu, std::vector<float> &scratch,
            std::vector<int8_t> &scratchCodes) {
  const double tolerance = AlsOptions{}.tolerance;
  alpha = detail::fitSymmetric(w, m, 0.0f, maxIterations, tolerance, t);
  mu = 0.0f;
  if (alpha == 0.0f) // An all-zero group, reproduced exactly.
    return;
  alternate(w, m, maxIterations, t, alpha, mu);
  double best = affineError(w, t, m, alpha, mu);
  auto keepIfBetter = [&](float alpha2, float mu2) {
    if (affineError(w, scratchCodes.data(), m, alpha2, mu2) < best) {
      best = affineError(w, scratchCodes.data(), m, alpha2, mu2);
      alpha = alpha2;
      mu = mu2;
      std::copy(scratchCodes.begin(), scratchCodes.end(), t);
    }
  };

  double mean = 0.0;
  float lo = w[0], hi = w[0];
  for (int64_t i = 0; i < m; ++i) {
    mean += double(w[i]);
    lo = std::min(lo, w[i]);
    hi = std::max(hi, w[i]);
  }
  float centre = float(mean / double(m));
  scratch.resize(size_t(m));
  scratchCodes.assign(size_t(m), 0);
  for (int64_t i = 0; i < m; ++i)
    scratch[size_t(i)] = w[i] - centre;
  float alpha2 = detail::fitSymmetric(scratch.data(), m, 0.0f, maxIterations,
                                      tolerance, scratchCodes.data());
  float mu2 = centre;
  alternate(w, m, maxIterations, scratchCodes.data(), alpha2, mu2);
  keepIfBetter(alpha2, mu2);

  alpha2 = float((double(hi) - double(lo)) / 2.0);
  mu2 = float((double(hi) + double(lo)) / 2.0);
  for (int64_t i = 0; i < m; ++i)
    scratchCodes[size_t(i)] = detail::roundTernary(w[i] - mu2, alpha2);
  alternate(w, m, maxIterations, scratchCodes.data(), alpha2, mu2);
  keepIfBetter(alpha2, mu2);
}

/// The H-weighted (α, μ) given t (see aga()): y = H_b t, h1 = H_b 1,
/// s11 = 1ᵀ H_b 1. Keeps (α, μ) when the system is (near) singular.
void solveWeighted(const float *w, int8_t *t, int64_t m, const double *y,
                   const double *h1, double s11, float &alpha, float &mu) {
  double tHt = 0.0, wHt = 0.0, oneHt = 0.0, wH1 = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    tHt += double(t[i]) * y[i];
    wHt += double(w[i]) * y[i];
    oneHt += y[i];
    wH1 += double(w[i]) * h1[i];
  }
  double det = tHt * s11 - oneHt * oneHt;
  if (!(det > 1e-12 * tHt * s11))
    return;
  double a = (s11 * wHt - oneHt * wH1) / det;
  double b = (tHt * wH1 - oneHt * wHt) / det;
  if (!std::isfinite(a) || !std::isfinite(b))
    return;
  alpha = float(a);
  mu = float(b);
  makeScalePositive(alpha, t, m);
}

/// Fits (α, μ) and t for each of the n rows of the n x m block `w` (row
/// stride ldw): ITF, then, when `h` is given (m x m, row stride ldh), the
/// H-weighted refit.
void fitBlock(const float *w, int64_t ldw, int64_t n, int64_t m,
              int maxIterations, const float *h, int64_t ldh,
              const FitOutput &out) {
  std::vector<float> scratch;
  std::vector<int8_t> scratchCodes;
  for (int64_t r = 0; r < n; ++r)
    fitItf(w + r * ldw, m, maxIterations, out.codes + r * out.ldt,
           out.alpha[r * out.stride], out.mu[r * out.stride], scratch,
           scratchCodes);
  if (h == nullptr)
    return;

  std::vector<double> h1(size_t(m), 0.0);
  double s11 = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < m; ++j)
      h1[size_t(i)] += double(h[i * ldh + j]);
    s11 += h1[size_t(i)];
  }
  constexpr int64_t chunk = 128;
  std::vector<float> t(size_t(std::min(chunk, n) * m));
  std::vector<double> y(t.size());
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    int64_t rows = std::min(chunk, n - r0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < m; ++i)
        t[size_t(r * m + i)] = float(out.codes[(r0 + r) * out.ldt + i]);
    std::fill(y.begin(), y.end(), 0.0);
    // y_r = t_rᵀ H_b = (H_b t_r)ᵀ, H_b symmetric.
    detail::multiplyAdd(t.data(), m, rows, m, h, ldh, m, y.data(), m);
    for (int64_t r = 0; r < rows; ++r)
      solveWeighted(w + (r0 + r) * ldw, out.codes + (r0 + r) * out.ldt, m,
                    y.data() + r * m, h1.data(), s11,
                    out.alpha[(r0 + r) * out.stride],
                    out.mu[(r0 + r) * out.stride]);
  }
}

std::optional<Error> checkOptions(int64_t blockSize, int maxIterations) {
  if (blockSize < 0)
    return detail::makeError("block size must be >= 0, but is ", blockSize);
  if (maxIterations < 1)
    return detail::makeError("maxIterations must be >= 1, but is ",
                             maxIterations);
  return std::nullopt;
}

/// itf() or aga(): one fitBlock() per block of columns.
Result<TernaryMatrix> fitGroups(MatrixView w, MatrixView h,
                                const AsymmetricOptions &options) {
  if (auto error = checkOptions(options.blockSize, options.maxIterations))
    return *error;
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (!h.isNull())
    if (auto error = detail::checkGram(h, w.cols))
      return *error;
  TernaryMatrix q = TernaryMatrix::zeros(w.rows, w.cols, options.blockSize,
                                         /*withOffsets=*/true);
  const int64_t groups = q.groupsPerRow();
  for (int64_t g = 0; g < groups; ++g) {
    int64_t c0 = g * q.groupSize, c1 = std::min(w.cols, c0 + q.groupSize);
    FitOutput out{q.codes.data() + c0, w.cols, q.scales.data() + g,
                  q.offsets.data() + g, groups};
    fitBlock(w.data + c0, w.cols, w.rows, c1 - c0, options.maxIterations,
             h.isNull() ? nullptr : h.data + c0 * w.cols + c0, w.cols, out);
  }
  return q;
}

} // namespace

namespace {

/// H in double with gptq()'s treatment: dead inputs (H_ii = 0) get H_ii = 1
/// (listed in `dead`), then λ = percdamp · mean(diag H) on the diagonal.
std::vector<double> dampenedGram(MatrixView h, double percdamp,
                                 std::vector<bool> &dead) {
  const int64_t k = h.cols;
  std::vector<double> v(size_t(k * k));
  for (int64_t i = 0; i < k * k; ++i)
    v[size_t(i)] = double(h.data[i]);
  dead.assign(size_t(k), false);
  double meanDiag = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    double &d = v[size_t(i * k + i)];
    if (d == 0.0) {
      d = 1.0;
      dead[size_t(i)] = true;
    }
    meanDiag += d;
  }
  double damp = percdamp * meanDiag / double(std::max<int64_t>(k, 1));
  for (int64_t i = 0; i < k; ++i)
    v[size_t(i * k + i)] += damp;
  return v;
}

/// Solves L Lᵀ z = b in place (L lower, row-major n x n).
void choleskySolve(const double *l, int64_t n, double *b) {
  for (int64_t i = 0; i < n; ++i) {
    double s = b[i];
    for (int64_t j = 0; j < i; ++j)
      s -= l[i * n + j] * b[j];
    b[i] = s / l[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int64_t j = i + 1; j < n; ++j)
      s -= l[j * n + i] * b[j];
    b[i] = s / l[i * n + i];
  }
}

std::optional<Error> checkPercdamp(double percdamp) {
  if (!(percdamp >= 0.0) || !std::isfinite(percdamp))
    return detail::makeError("percdamp must be finite and >= 0, but is ",
                             percdamp);
  return std::nullopt;
}

} // namespace

Result<TernaryMatrix> itf(MatrixView w, const AsymmetricOptions &options) {
  return fitGroups(w, MatrixView{}, options);
}

Result<TernaryMatrix> aga(MatrixView w, MatrixView h,
                          const AsymmetricOptions &options) {
  if (h.isNull())
    return detail::makeError("aga needs a ", w.cols, " x ", w.cols,
                             " gram matrix, but none given");
  return fitGroups(w, h, options);
}

Result<TernaryMatrix> gptq(MatrixView w, MatrixView h,
                           const GptqOptions &options) {
  if (auto error = checkOptions(options.blockSize, options.maxIterations))
    return *error;
  if (auto error = checkPercdamp(options.percdamp))
    return *error;
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (auto error = detail::checkGram(h, w.cols))
    return *error;

  if (options.intBits != 0 && (options.intBits < 2 || options.intBits > 8))
    return detail::makeError("intBits must be 0 (ternary) or in 2..8, but is ",
                             options.intBits);
  const int64_t n = w.rows, k = w.cols;
  const bool integer = options.intBits != 0;
  const float qmax = integer ? float((1 << (options.intBits - 1)) - 1) : 1.0f;
  TernaryMatrix q =
      TernaryMatrix::zeros(n, k, options.blockSize, /*withOffsets=*/!integer);
  if (n == 0 || k == 0)
    return q;
  const int64_t groupSize = q.groupSize, groups = q.groupsPerRow();
  const int64_t lazy =
      std::min(k, options.blockSize > 0 ? options.blockSize : int64_t(128));
  const bool weighted = options.fit == GroupFit::Aga;

  // 1. Dead inputs and dampening, in double.
  std::vector<float> wc(w.data, w.data + n * k);
  std::vector<bool> dead;
  std::vector<double> v = dampenedGram(h, options.percdamp, dead);
  for (int64_t i = 0; i < k; ++i)
    if (dead[size_t(i)])
      for (int64_t r = 0; r < n; ++r)
        wc[size_t(r * k + i)] = 0.0f;

  // The diagonal blocks of the dampened H, for AGA.
  std::vector<std::vector<float>> diagBlocks;
  if (weighted)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t c0 = g * groupSize, m = std::min(k, c0 + groupSize) - c0;
      std::vector<float> block(size_t(m * m));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j)
          block[size_t(i * m + j)] = float(v[size_t((c0 + i) * k + c0 + j)]);
      diagBlocks.push_back(std::move(block));
    }

  // 2. H = V Vᵀ with V upper: the lower Cholesky factor of the reversed
  // matrix P H P (P the reversal; reversing the row-major storage reverses
  // both indices), reversed back.
  std::reverse(v.begin(), v.end());
  if (!detail::choleskyLower(v.data(), k))
    return detail::makeError(
        "h is not positive definite after dampening with percdamp ",
        options.percdamp, "; raise percdamp");
  std::reverse(v.begin(), v.end());
  std::vector<float> vf(size_t(k * k), 0.0f);
  std::vector<double> invDiag(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    invDiag[size_t(i)] = 1.0 / v[size_t(i * k + i)];
    for (int64_t j = i; j < k; ++j)
      vf[size_t(i * k + j)] = float(v[size_t(i * k + j)]);
  }
  std::vector<double>().swap(v);

  auto fitGroup = [&](const float *block, int64_t ld, int64_t g, int64_t c0,
                      int64_t m) {
    if (integer) {
      // Symmetric absmax per row of the group; the codes come below.
      for (int64_t r = 0; r < n; ++r) {
        float a = 0.0f;
        for (int64_t j = 0; j < m; ++j)
          a = std::max(a, std::fabs(block[r * ld + j]));
        q.scales[size_t(r * groups + g)] = a / qmax;
      }
      return;
    }
    FitOutput out{q.codes.data() + c0, k, q.scales.data() + g,
                  q.offsets.data() + g, groups};
    fitBlock(block, ld, n, m, options.maxIterations,
             weighted ? diagBlocks[size_t(g)].data() : nullptr, m, out);
  };
  if (options.blockSize == 0)
    fitGroup(wc.data(), k, 0, 0, k);

  // 3. Column by column; delta = W − Q so far.
  std::vector<float> delta(size_t(n * k), 0.0f), current(size_t(n * lazy));
  std::vector<float> vt(size_t(lazy * lazy));
  std::vector<double> y(size_t(n * lazy));
  for (int64_t s = 0; s < k; s += lazy) {
    const int64_t e = std::min(k, s + lazy), b = e - s;
    // y[r][j] = Σ_{i<s} delta[r][i] V[i][s+j]: all earlier blocks at once.
    std::fill(y.begin(), y.end(), 0.0);
    detail::multiplyAdd(delta.data(), k, n, s, vf.data() + s, k, b, y.data(),
                        lazy);
    if (options.blockSize > 0) {
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < b; ++j)
          current[size_t(r * lazy + j)] =
              wc[size_t(r * k + s + j)] +
              float(y[size_t(r * lazy + j)] * invDiag[size_t(s + j)]);
      fitGroup(current.data(), lazy, s / groupSize, s, b);
    }
    // vt[j][i] = V[s+i][s+j], i < j: the in-block coupling, contiguous in i.
    for (int64_t j = 0; j < b; ++j)
      for (int64_t i = 0; i < j; ++i)
        vt[size_t(j * lazy + i)] = vf[size_t((s + i) * k + s + j)];
    for (int64_t r = 0; r < n; ++r) {
      const float *dr = delta.data() + r * k + s;
      for (int64_t j = 0; j < b; ++j) {
        double acc = y[size_t(r * lazy + j)];
        const float *vj = vt.data() + j * lazy;
        for (int64_t i = 0; i < j; ++i)
          acc += double(dr[i]) * double(vj[i]);
        int64_t c = s + j;
        float original = wc[size_t(r * k + c)];
        float x = original + float(acc * invDiag[size_t(c)]);
        int64_t g = r * groups + c / groupSize;
        float scale = q.scales[size_t(g)];
        int8_t t =
            integer
                ? (scale > 0.0f ? int8_t(std::clamp(std::nearbyint(x / scale),
                                                    -qmax, qmax))
                                : int8_t(0))
                : detail::roundTernary(x - q.offsets[size_t(g)], scale);
        q.codes[size_t(r * k + c)] = t;
        delta[size_t(r * k + c)] = original - q.decode(r, c);
      }
    }
  }
  return q;
}

Result<std::vector<float>> fpOutputTarget(MatrixView w, MatrixView h,
                                          MatrixView c, double percdamp) {
  if (auto error = checkPercdamp(percdamp))
    return *error;
  if (auto error = detail::checkMatrix(w, "w"))
    return *error;
  if (auto error = detail::checkGram(h, w.cols))
    return *error;
  if (auto error = detail::checkMatrix(c, "c"))
    return *error;
  if (c.rows != w.cols || c.cols != w.cols)
    return detail::makeError("expects a ", w.cols, " x ", w.cols,
                             " cross matrix, but c is ", c.rows, " x ",
                             c.cols);
  const int64_t n = w.rows, k = w.cols;
  std::vector<float> target(w.data, w.data + n * k);
  if (n == 0 || k == 0)
    return target;
  std::vector<bool> dead;
  std::vector<double> l = dampenedGram(h, percdamp, dead);
  if (!detail::choleskyLower(l.data(), k))
    return detail::makeError(
        "h is not positive definite after dampening with percdamp ", percdamp,
        "; raise percdamp");
  // D = C − H; row r of the correction solves (H + λI) z = D w_r.
  std::vector<double> d(size_t(k * k));
  for (int64_t i = 0; i < k * k; ++i)
    d[size_t(i)] = double(c.data[i]) - double(h.data[i]);
  std::vector<double> z(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    const float *wr = w.data + r * k;
    for (int64_t i = 0; i < k; ++i) {
      const double *di = &d[size_t(i * k)];
      double s = 0.0;
      for (int64_t j = 0; j < k; ++j)
        s += di[j] * double(wr[j]);
      z[size_t(i)] = s;
    }
    choleskySolve(l.data(), k, z.data());
    for (int64_t i = 0; i < k; ++i)
      target[size_t(r * k + i)] = float(double(wr[i]) + z[size_t(i)]);
  }
  for (float v : target)
    if (!std::isfinite(v))
      return detail::makeError("the f32-output target is not finite; raise "
                               "percdamp (now ",
                               percdamp, ")");
  return target;
}

std::optional<Error> refitScales(TernaryMatrix &q, MatrixView w, MatrixView h,
                                 double percdamp) {
  if (auto error = checkPercdamp(percdamp))
    return error;
  if (auto error = detail::checkSameShape(w, q))
    return error;
  if (auto error = detail::checkGram(h, w.cols))
    return error;
  const int64_t n = q.rows, k = q.cols;
  if (n == 0 || k == 0)
    return std::nullopt;
  const int64_t groups = q.groupsPerRow(), gs = q.groupSize;
  const bool offsets = !q.offsets.empty();
  const int64_t per = offsets ? 2 : 1, params = per * groups;
  std::vector<bool> dead;
  std::vector<double> hd = dampenedGram(h, percdamp, dead);
  auto begin = [&](int64_t g) { return g * gs; };
  auto end = [&](int64_t g) { return std::min(k, (g + 1) * gs); };
  // u_g = H 1_g (row-independent), and s_gh = 1_gᵀ H 1_h.
  std::vector<double> u, s;
  if (offsets) {
    u.assign(size_t(groups * k), 0.0);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t cIdx = begin(g); cIdx < end(g); ++cIdx)
        for (int64_t j = 0; j < k; ++j)
          u[size_t(g * k + j)] += hd[size_t(cIdx * k + j)];
    s.assign(size_t(groups * groups), 0.0);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t hIdx = 0; hIdx < groups; ++hIdx)
        for (int64_t j = begin(hIdx); j < end(hIdx); ++j)
          s[size_t(g * groups + hIdx)] += u[size_t(g * k + j)];
  }
  std::vector<double> v(static_cast<size_t>(groups * k));
  std::vector<double> wr(static_cast<size_t>(k));
  std::vector<double> a(static_cast<size_t>(params * params));
  std::vector<double> rhs(static_cast<size_t>(params));
  std::vector<int64_t> active;
  for (int64_t r = 0; r < n; ++r) {
    const int8_t *t = q.codes.data() + r * k;
    for (int64_t i = 0; i < k; ++i)
      wr[size_t(i)] = dead[size_t(i)] ? 0.0 : double(w.data[r * k + i]);
    // v_g = H t_g.
    std::fill(v.begin(), v.end(), 0.0);
    std::vector<bool> nonzero(size_t(groups), false);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t cIdx = begin(g); cIdx < end(g); ++cIdx) {
        if (t[cIdx] == 0)
          continue;
        nonzero[size_t(g)] = true;
        double tc = double(t[cIdx]);
        const double *hc = &hd[size_t(cIdx * k)];
        double *vg = &v[size_t(g * k)];
        for (int64_t j = 0; j < k; ++j)
          vg[j] += tc * hc[j];
      }
    // Parameter p: scale of group p / per, or its offset when p % per = 1.
    active.clear();
    for (int64_t p = 0; p < params; ++p)
      if (p % per == 1 || nonzero[size_t(p / per)])
        active.push_back(p);
    const int64_t m = int64_t(active.size());
    auto basisDotH = [&](int64_t p, int64_t qp) {
      // b_pᵀ H b_q, with H b_q = v_g or u_g and b_p supported on group p.
      int64_t gq = qp / per;
      const double *hb = qp % per == 0 ? &v[size_t(gq * k)] : &u[size_t(gq * k)];
      int64_t gp = p / per;
      if (p % per == 1 && qp % per == 1)
        return s[size_t(gp * groups + gq)];
      double acc = 0.0;
      for (int64_t j = begin(gp); j < end(gp); ++j)
        acc += (p % per == 0 ? double(t[j]) : 1.0) * hb[j];
      return acc;
    };
    double trace = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j <= i; ++j)
        a[size_t(i * m + j)] = basisDotH(active[size_t(i)], active[size_t(j)]);
      trace += a[size_t(i * m + i)];
      int64_t p = active[size_t(i)];
      const double *hb =
          p % per == 0 ? &v[size_t((p / per) * k)] : &u[size_t((p / per) * k)];
      double acc = 0.0;
      for (int64_t j = 0; j < k; ++j)
        acc += hb[j] * wr[size_t(j)];
      rhs[size_t(i)] = acc;
    }
    if (m == 0)
      continue;
    // A tiny ridge keeps an exactly singular system (two groups whose
    // bases coincide) solvable; a system still not positive definite
    // keeps the row as it was.
    for (int64_t i = 0; i < m; ++i)
      a[size_t(i * m + i)] += 1e-12 * trace / double(m);
    if (!detail::choleskyLower(a.data(), m))
      continue;
    choleskySolve(a.data(), m, rhs.data());
    bool finite = true;
    for (int64_t i = 0; i < m; ++i)
      finite = finite && std::isfinite(rhs[size_t(i)]);
    if (!finite)
      continue;
    for (int64_t i = 0; i < m; ++i) {
      int64_t p = active[size_t(i)], g = p / per;
      float value = float(rhs[size_t(i)]);
      if (p % per == 1) {
        q.offsets[size_t(r * groups + g)] = value;
        continue;
      }
      float &scale = q.scales[size_t(r * groups + g)];
      scale = value;
      if (scale < 0.0f) {
        scale = -scale;
        for (int64_t j = begin(g); j < end(g); ++j)
          q.codes[size_t(r * k + j)] = int8_t(-q.codes[size_t(r * k + j)]);
      }
    }
  }
  return std::nullopt;
}

} // namespace terminator::solvers
