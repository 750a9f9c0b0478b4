//===- Internal.h - helpers shared by the solvers ---------------*- C++ -*-===//
//
// Part of TerMinator. Validation, rounding and the few dense kernels that
// several solvers share. Nothing outside passes/solvers/ includes this file.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_INTERNAL_H
#define TERMINATOR_PASSES_SOLVERS_INTERNAL_H

#include "passes/solvers/Ternary.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

namespace terminator::solvers::detail {

/// Builds an Error from the streamed pieces: makeError("expects ", k, " rows").
template <typename... Pieces> Error makeError(const Pieces &...pieces) {
  std::ostringstream os;
  (os << ... << pieces);
  return Error{os.str()};
}

/// Nearest of {-1, 0, 1} to x / s, with round-half-to-even as
/// std::nearbyint does; s <= 0 (or NaN) gives 0.
inline int8_t roundTernary(float x, float s) {
  if (!(s > 0.0f))
    return 0;
  float t = std::nearbyint(x / s);
  return int8_t(std::clamp(t, -1.0f, 1.0f));
}

/// Checks that `w` is a well-formed matrix with finite entries; `name` is
/// used in the message ("w", "h").
std::optional<Error> checkMatrix(MatrixView w, const char *name);

/// Checks that `h` is a k x k symmetric Gram matrix (finite, non-negative
/// diagonal, |h_ij - h_ji| <= 1e-4 sqrt(h_ii h_jj) + 1e-30).
std::optional<Error> checkGram(MatrixView h, int64_t k);

/// Checks that `q` has the shape of `w` and consistent code/scale sizes.
std::optional<Error> checkSameShape(MatrixView w, const TernaryMatrix &q);

/// Y[n x m] += A[n x p] · B[p x m], all row-major with leading dimensions
/// lda, ldb, ldy. Products are summed in float over tiles of 64 terms of p
/// and the tiles in double; zero entries of A are skipped, which makes
/// ternary A cheap. Tiled so that a 64 x 512 tile of B stays in cache while
/// all n rows of A pass over it.
void multiplyAdd(const float *a, int64_t lda, int64_t n, int64_t p,
                 const float *b, int64_t ldb, int64_t m, double *y,
                 int64_t ldy);

/// For each row r of the n x k matrices A and B (row stride k),
/// out[r] = a_r^T H b_r with H k x k. Cost n·k², in row chunks so that the
/// n x k intermediate never exists at once.
void bilinearRows(const float *a, const float *b, int64_t n, int64_t k,
                  const float *h, double *out);

/// In-place lower Cholesky factor of the n x n row-major symmetric matrix
/// `a` (only its lower triangle is read): A = L·Lᵀ, L written over the lower
/// triangle; the strict upper triangle is left unspecified. Blocked
/// (right-looking, 64-column panels) so that the O(n³/3) work runs from
/// cache. Returns false when A is not numerically positive definite.
bool choleskyLower(double *a, int64_t n);

/// The symmetric ternary least-squares fit of one group of m values:
///   min over α >= 0, t ∈ {-1,0,1}^m of Σ_i (w_i − α t_i)²,
/// alternating t = clip(round(w/α), -1, 1) and α = Σ w t / Σ t²
/// (= Σ_{t≠0} |w| / nnz) from `alpha0` (absmean of the group when
/// alpha0 <= 0), until t stops changing, `maxIterations` alternations, or the
/// relative decrease of the objective falls to `tolerance`. Both steps are
/// exact minimizers, so the objective never increases. Writes t and returns α
/// (0 for an all-zero group).
float fitSymmetric(const float *w, int64_t m, float alpha0, int maxIterations,
                   double tolerance, int8_t *t);

} // namespace terminator::solvers::detail

#endif // TERMINATOR_PASSES_SOLVERS_INTERNAL_H
