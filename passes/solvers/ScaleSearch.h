//===- ScaleSearch.h - per-row scales by a calibrated grid ------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_SCALESEARCH_H
#define TERMINATOR_PASSES_SOLVERS_SCALESEARCH_H

#include "passes/solvers/Ternary.h"

namespace terminator::solvers {

/// The per-row statistic that the multiplier scales.
enum class ScaleStatistic {
  /// mean |w_r| (BitNet); the 0.5–3 default grid is meant for it.
  Absmean,
  /// max |w_r|; useful multipliers are below 1 (try 0.1–1).
  Absmax,
};

/// Options of scaleSearch().
struct ScaleSearchOptions {
  ScaleStatistic statistic = ScaleStatistic::Absmean;
  /// The grid m_i = minMultiplier + i · (maxMultiplier − minMultiplier) /
  /// (steps − 1), i = 0 … steps − 1 (only minMultiplier when steps = 1).
  /// Multiplier 1 is always tried as well.
  double minMultiplier = 0.5;
  double maxMultiplier = 3.0;
  int steps = 26;
};

/// Per-channel ternarization with a searched scale: for each row r, with
/// s = m · stat(w_r) and t(s) = clip(round(w_r / s), -1, 1), picks the
/// multiplier m of the grid (or 1) that minimizes
///   ‖w_r − s t(s)‖²                                      when `h` is null,
///   (w_r − s t(s))ᵀ H (w_r − s t(s))
///       = w_rᵀHw_r − 2s t(s)ᵀHw_r + s² t(s)ᵀHt(s)         otherwise,
/// H = XᵀX the cols x cols calibration Gram matrix (symmetric). Ties keep
/// multiplier 1, so the result is never worse than plain per-row
/// absmean/absmax on this objective. Returns one symmetric group per row.
///
/// Cost: rows·cols·steps without H. With H, rows·cols² (signed adds) for
/// any number of steps: t(s) only loses codes as s grows, so with b_c the
/// number of grid steps that keep code c and s_j = sign(w) ∘ [b = j]
/// (disjoint), t(s_k) = Σ_{j>k} s_j and one pass over H forms Y_j = H s_j:
///   t(s_k)ᵀHt(s_k) = Σ_{j,j'>k} s_jᵀ Y_j',   t(s_k)ᵀHw = Σ_{j>k} wᵀ Y_j.
/// Y is summed in float over chunks of 512 terms, the chunks in double.
///
/// Fails on bad options (steps outside 1–256, multipliers not 0 < min <= max,
/// finite) or on an `h` that is not a cols x cols symmetric Gram matrix.
Result<TernaryMatrix> scaleSearch(MatrixView w,
                                  const ScaleSearchOptions &options = {},
                                  MatrixView h = {});

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_SCALESEARCH_H
