//===- Internal.cpp - helpers shared by the solvers -----------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Internal.h"

#include <vector>

namespace terminator::solvers::detail {

std::optional<Error> checkMatrix(MatrixView w, const char *name) {
  if (w.rows < 0 || w.cols < 0)
    return makeError(name, " has a negative shape ", w.rows, " x ", w.cols);
  if (w.rows * w.cols > 0 && w.data == nullptr)
    return makeError(name, " is ", w.rows, " x ", w.cols, " but has no data");
  for (int64_t i = 0, e = w.rows * w.cols; i < e; ++i)
    if (!std::isfinite(w.data[i]))
      return makeError(name, " has a non-finite entry at (", i / w.cols, ", ",
                       i % w.cols, ")");
  return std::nullopt;
}

std::optional<Error> checkGram(MatrixView h, int64_t k) {
  if (h.isNull())
    return makeError("expects a ", k, " x ", k, " gram matrix, but none given");
  if (h.rows != k || h.cols != k)
    return makeError("expects a ", k, " x ", k, " gram matrix, but h is ",
                     h.rows, " x ", h.cols);
  if (auto error = checkMatrix(h, "h"))
    return error;
  for (int64_t i = 0; i < k; ++i)
    if (h.at(i, i) < 0.0f)
      return makeError("h has a negative diagonal entry ", h.at(i, i), " at ",
                       i);
  // Compare in 64 x 64 tiles so that the transposed reads stay in cache.
  constexpr int64_t tile = 64;
  for (int64_t i0 = 0; i0 < k; i0 += tile)
    for (int64_t j0 = 0; j0 <= i0; j0 += tile)
      for (int64_t i = i0; i < std::min(k, i0 + tile); ++i)
        for (int64_t j = j0; j < std::min(i, j0 + tile); ++j) {
          double bound = 1e-4 * std::sqrt(double(h.at(i, i)) * h.at(j, j));
          if (std::fabs(double(h.at(i, j)) - h.at(j, i)) > bound + 1e-30)
            return makeError("h is not symmetric: h(", i, ", ", j,
                             ") = ", h.at(i, j), " but h(", j, ", ", i,
                             ") = ", h.at(j, i));
        }
  return std::nullopt;
}

std::optional<Error> checkSameShape(MatrixView w, const TernaryMatrix &q) {
  if (q.rows != w.rows || q.cols != w.cols)
    return makeError("expects a ", w.rows, " x ", w.cols,
                     " ternary matrix, but it is ", q.rows, " x ", q.cols);
  if (int64_t(q.codes.size()) != q.rows * q.cols ||
      int64_t(q.scales.size()) != q.rows * q.groupsPerRow() ||
      (!q.offsets.empty() && q.offsets.size() != q.scales.size()) ||
      (q.cols > 0 && q.groupSize <= 0))
    return makeError("ternary matrix has ", q.codes.size(), " codes and ",
                     q.scales.size(), " scales, which do not fit ", q.rows,
                     " x ", q.cols, " with group size ", q.groupSize);
  return std::nullopt;
}

void multiplyAdd(const float *a, int64_t lda, int64_t n, int64_t p,
                 const float *b, int64_t ldb, int64_t m, double *y,
                 int64_t ldy) {
  constexpr int64_t tileP = 64, tileM = 512;
  float part[tileM];
  // The non-zero entries of one row of A in the current tile of p.
  float x[tileP];
  const float *rowsOfB[tileP];
  for (int64_t m0 = 0; m0 < m; m0 += tileM) {
    const int64_t mb = std::min(tileM, m - m0);
    for (int64_t p0 = 0; p0 < p; p0 += tileP) {
      const int64_t pb = std::min(tileP, p - p0);
      for (int64_t r = 0; r < n; ++r) {
        const float *ar = a + r * lda + p0;
        int64_t nz = 0;
        for (int64_t j = 0; j < pb; ++j)
          if (ar[j] != 0.0f) {
            x[nz] = ar[j];
            rowsOfB[nz++] = b + (p0 + j) * ldb + m0;
          }
        if (nz == 0)
          continue;
        // Four rows of B per pass over `part`: one load and store of part
        // per four products.
        std::fill(part, part + mb, 0.0f);
        int64_t j = 0;
        for (; j + 4 <= nz; j += 4) {
          const float *b0 = rowsOfB[j], *b1 = rowsOfB[j + 1],
                      *b2 = rowsOfB[j + 2], *b3 = rowsOfB[j + 3];
          const float x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
          for (int64_t i = 0; i < mb; ++i)
            part[i] += (x0 * b0[i] + x1 * b1[i]) + (x2 * b2[i] + x3 * b3[i]);
        }
        for (; j < nz; ++j) {
          const float *bj = rowsOfB[j];
          const float xj = x[j];
          for (int64_t i = 0; i < mb; ++i)
            part[i] += xj * bj[i];
        }
        double *yr = y + r * ldy + m0;
        for (int64_t i = 0; i < mb; ++i)
          yr[i] += double(part[i]);
      }
    }
  }
}

void bilinearRows(const float *a, const float *b, int64_t n, int64_t k,
                  const float *h, double *out) {
  constexpr int64_t chunk = 128;
  std::vector<double> y;
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    int64_t nc = std::min(chunk, n - r0);
    y.assign(size_t(nc * k), 0.0);
    multiplyAdd(a + r0 * k, k, nc, k, h, k, k, y.data(), k);
    for (int64_t r = 0; r < nc; ++r) {
      const float *br = b + (r0 + r) * k;
      const double *yr = y.data() + r * k;
      double sum = 0.0;
      for (int64_t i = 0; i < k; ++i)
        sum += double(br[i]) * yr[i];
      out[r0 + r] = sum;
    }
  }
}

bool choleskyLower(double *a, int64_t n) {
  constexpr int64_t nb = 64, tileJ = 256;
  std::vector<double> panel;
  for (int64_t k0 = 0; k0 < n; k0 += nb) {
    int64_t k1 = std::min(n, k0 + nb);
    // 1. The diagonal block, unblocked (earlier panels already updated it).
    for (int64_t j = k0; j < k1; ++j) {
      double *rj = a + j * n;
      double d = rj[j];
      for (int64_t p = k0; p < j; ++p)
        d -= rj[p] * rj[p];
      if (!(d > 0.0) || !std::isfinite(d))
        return false;
      rj[j] = std::sqrt(d);
      for (int64_t i = j + 1; i < k1; ++i) {
        double *ri = a + i * n;
        double s = ri[j];
        for (int64_t p = k0; p < j; ++p)
          s -= ri[p] * rj[p];
        ri[j] = s / rj[j];
      }
    }
    // 2. The panel below it: L21 = A21 · L11^-T, one row at a time.
    for (int64_t i = k1; i < n; ++i) {
      double *ri = a + i * n;
      for (int64_t j = k0; j < k1; ++j) {
        const double *rj = a + j * n;
        double s = ri[j];
        for (int64_t p = k0; p < j; ++p)
          s -= ri[p] * rj[p];
        ri[j] = s / rj[j];
      }
    }
    if (k1 == n)
      break;
    // 3. Trailing update A22 -= L21 · L21^T on the lower triangle. The panel
    // is transposed so that the innermost loop is a contiguous axpy; four
    // rows share each panel load; rows spill a few writes into the unused
    // strict upper triangle.
    int64_t kb = k1 - k0;
    panel.assign(size_t(kb * n), 0.0);
    for (int64_t j = k1; j < n; ++j)
      for (int64_t p = 0; p < kb; ++p)
        panel[size_t(p * n + j)] = a[j * n + k0 + p];
    for (int64_t j0 = k1; j0 < n; j0 += tileJ) {
      int64_t j1 = std::min(n, j0 + tileJ);
      for (int64_t i = j0; i < n; i += 4) {
        int64_t rowsHere = std::min<int64_t>(4, n - i);
        int64_t jEnd = std::min(j1, i + rowsHere);
        double *r0 = a + i * n;
        double *r1 = rowsHere > 1 ? r0 + n : r0;
        double *r2 = rowsHere > 2 ? r0 + 2 * n : r0;
        double *r3 = rowsHere > 3 ? r0 + 3 * n : r0;
        if (rowsHere == 4) {
          for (int64_t p = 0; p < kb; ++p) {
            double x0 = r0[k0 + p], x1 = r1[k0 + p], x2 = r2[k0 + p],
                   x3 = r3[k0 + p];
            const double *pp = panel.data() + p * n;
            for (int64_t j = j0; j < jEnd; ++j) {
              double v = pp[j];
              r0[j] -= x0 * v;
              r1[j] -= x1 * v;
              r2[j] -= x2 * v;
              r3[j] -= x3 * v;
            }
          }
        } else {
          for (int64_t r = 0; r < rowsHere; ++r) {
            double *row = r0 + r * n;
            for (int64_t p = 0; p < kb; ++p) {
              double x = row[k0 + p];
              const double *pp = panel.data() + p * n;
              for (int64_t j = j0; j < jEnd; ++j)
                row[j] -= x * pp[j];
            }
          }
        }
      }
    }
  }
  return true;
}

float fitSymmetric(const float *w, int64_t m, float alpha0, int maxIterations,
                   double tolerance, int8_t *t) {
  double sumAbs = 0.0, sumSq = 0.0;
  for (int64_t i = 0; i < m; ++i) {
    double x = std::fabs(double(w[i]));
    sumAbs += x;
    sumSq += x * x;
  }
  if (m == 0 || sumAbs == 0.0) {
    std::fill(t, t + m, int8_t(0));
    return 0.0f;
  }
  float absmean = float(sumAbs / double(m));
  float alpha = (alpha0 > 0.0f && std::isfinite(alpha0)) ? alpha0 : absmean;

  // One rounding step: t = clip(round(w / α)); returns how many codes
  // changed, and Σ_{t≠0} |w| and nnz for the α step.
  int64_t changed = 0, nnz = 0;
  double kept = 0.0;
  auto roundAll = [&](float s) {
    changed = nnz = 0;
    kept = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      int8_t ti = roundTernary(w[i], s);
      changed += ti != t[i];
      t[i] = ti;
      if (ti != 0) {
        ++nnz;
        kept += std::fabs(double(w[i]));
      }
    }
  };

  double previous = INFINITY;
  for (int it = 0; it < maxIterations; ++it) {
    roundAll(alpha);
    if (nnz == 0) {
      // α above twice every |w|: restart from absmean, which keeps at least
      // the largest value (max |w| >= absmean > absmean / 2).
      alpha = absmean;
      roundAll(alpha);
      changed = m; // Not a fixed point.
    }
    double objective = sumSq - kept * kept / double(nnz);
    alpha = float(kept / double(nnz));
    if (it > 0 && changed == 0)
      break;
    if (it > 0 && previous - objective <= tolerance * previous)
      break;
    previous = objective;
  }
  return alpha;
}

} // namespace terminator::solvers::detail
