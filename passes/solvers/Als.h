//===- Als.h - alternating least squares for W ≈ αT -------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_ALS_H
#define TERMINATOR_PASSES_SOLVERS_ALS_H

#include "passes/solvers/Ternary.h"

namespace terminator::solvers {

/// Where the alternation starts.
enum class AlsInit {
  /// α = mean |w| of each group (BitNet absmean).
  Absmean,
  /// Rank-1 power iteration |W| ≈ σ u vᵀ (u, v >= 0): the seed of the group
  /// of row r and columns C is α = σ · u_r · mean_{c∈C} v_c, a smoothed
  /// absmean; one α = σ · mean(u) · mean(v) for Granularity::Tensor.
  PowerIteration,
};

/// Options of als().
struct AlsOptions {
  /// Tensor: one α for the whole matrix; Row: one α per row (Λ), or per
  /// `groupSize` columns of a row when groupSize > 0.
  Granularity granularity = Granularity::Row;
  int64_t groupSize = 0;
  AlsInit init = AlsInit::Absmean;
  /// Alternations at most (>= 1); each group also stops once T no longer
  /// changes or the objective decreases by at most `tolerance` (relative).
  int maxIterations = 50;
  double tolerance = 1e-7;
  /// Iterations of the rank-1 power method for AlsInit::PowerIteration.
  int powerIterations = 30;
};

/// Symmetric ternary least squares, min over α >= 0 and T ∈ {-1,0,1} of
/// ‖W − αT‖_F² per group (the tensor, each row, or each row group), by
/// alternating the two exact partial minimizers
///   T = clip(round(W / α), -1, 1),    α = ⟨W, T⟩ / ⟨T, T⟩,
/// so the error never increases; from absmean it ends at or below absmean's
/// error. O(rows·cols) per iteration.
///
/// Fails on bad options (maxIterations < 1, groupSize < 0, groupSize with
/// Tensor granularity, tolerance < 0, powerIterations < 1).
Result<TernaryMatrix> als(MatrixView w, const AlsOptions &options = {});

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_ALS_H
