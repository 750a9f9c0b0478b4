//===- Reorder.h - SSR column reordering ------------------------*- C++ -*-===//
//
// Part of TerMinator. Structural-similarity reordering (SSR, PT²-LLM): a
// permutation of the input columns that puts similar columns into the same
// block of `blockSize`, so that each block's (α, μ) fits all of its columns.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_REORDER_H
#define TERMINATOR_PASSES_SOLVERS_REORDER_H

#include "passes/solvers/Ternary.h"

#include <cstdint>
#include <vector>

namespace terminator::solvers {

/// Options of ssrOrder().
struct SsrOptions {
  /// Columns per block (the quantizer's group size), >= 1.
  int64_t blockSize = 128;
};

/// Greedy clustering of the columns of `w` [N, K] into blocks of
/// `blockSize` (the last one holds the rest). The similarity of columns i
/// and j compares their magnitude profiles a = |W[:, i]|, b = |W[:, j]|,
/// SSIM-style, as structure times scale:
///
///   s(i, j) = cos(a, b) · 2‖a‖‖b‖ / (‖a‖² + ‖b‖²)
///
/// (1 for equal profiles; 0 for disjoint support or a zero column). Each
/// block starts from the remaining column of largest norm, so outlier
/// columns lead, and takes the blockSize − 1 remaining columns most similar
/// to it, in decreasing similarity (ties: lower index). Returns `perm`, with
/// column perm[i] of `w` going to position i; the identity when
/// K <= blockSize. Fails on blockSize < 1. Cost O(N · K² / blockSize).
Result<std::vector<int64_t>> ssrOrder(MatrixView w,
                                      const SsrOptions &options = {});

/// out[:, i] = w[:, perm[i]], row-major [N, K]. `perm` must be a
/// permutation of [0, K) (not checked).
std::vector<float> permuteColumns(MatrixView w,
                                  const std::vector<int64_t> &perm);

/// out[i, :] = w[perm[i], :], row-major [N, K]. `perm` must be a
/// permutation of [0, N) (not checked).
std::vector<float> permuteRows(MatrixView w, const std::vector<int64_t> &perm);

/// out[i, j] = h[perm[i], perm[j]]: the Gram matrix of permuted inputs.
std::vector<float> permuteGram(MatrixView h, const std::vector<int64_t> &perm);

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_REORDER_H
