//===- Asymmetric.h - PT²-LLM asymmetric ternarization ----------*- C++ -*-===//
//
// Part of TerMinator. W ≈ αT + μ with (α, μ) per row and per block of
// columns (PT²-LLM, Yan et al. 2025): ITF, AGA, and both inside GPTQ block
// error compensation (Frantar et al. 2022).
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_ASYMMETRIC_H
#define TERMINATOR_PASSES_SOLVERS_ASYMMETRIC_H

#include "passes/solvers/Ternary.h"

#include <cstdint>

namespace terminator::solvers {

/// Options of itf() and aga().
struct AsymmetricOptions {
  /// Columns per (α, μ) group; 0 for one group per row.
  int64_t blockSize = 128;
  /// ITF alternations at most (>= 1); ITF stops earlier once T is stable.
  int maxIterations = 50;
};

/// Iterative Ternary Fitting: per group of m values w (one row, one block of
/// columns), min over α, μ and t ∈ {-1,0,1}^m of ‖w − αt − μ1‖², by
/// alternating the two exact partial minimizers
///   (α, μ) = the 2×2 least squares given t:
///     α = (mΣwt − ΣtΣw) / (mΣt² − (Σt)²),
///     μ = (Σt²Σw − ΣtΣwt) / (mΣt² − (Σt)²),
///   t = clip(round((w − μ) / α), -1, 1)            (flexible rounding),
/// until t stops changing. When all t are equal the denominator is 0 and
/// (α, μ) is not identifiable: α is kept and μ = mean(w − αt). A negative α
/// is made positive by negating t. The alternation only finds a local
/// optimum, so it runs from three starts and keeps the best end: the
/// symmetric fit of als() with its default options (μ = 0) on the same
/// groups, so it never ends above that error; the centred fit (μ = mean(w),
/// symmetric fit of w − μ); and the range (μ = (max + min)/2,
/// α = (max − min)/2), which recovers an exactly representable group.
/// O(rows·cols) per iteration.
///
/// Fails on blockSize < 0 or maxIterations < 1.
Result<TernaryMatrix> itf(MatrixView w, const AsymmetricOptions &options = {});

/// Activation-aware Grid Alignment: itf(), then per group, with t fixed, the
/// (α, μ) that minimize the output error of the group,
///   (w − αt − μ1)ᵀ H_b (w − αt − μ1),
/// H_b the group's m x m diagonal block of the calibration Gram matrix
/// H = XᵀX (cols x cols, symmetric). With y = H_b t, h1 = H_b 1:
///   [tᵀy   1ᵀy ] [α]   [wᵀy ]
///   [1ᵀy   1ᵀh1] [μ] = [wᵀh1].
/// A (near) singular system keeps the ITF (α, μ). With one group per row
/// (blockSize 0) this minimizes tr(E H Eᵀ) over (α, μ) exactly; with blocks
/// it ignores the H coupling between blocks. Cost rows·cols·blockSize.
///
/// Fails on bad options or an `h` that is not a cols x cols Gram matrix.
Result<TernaryMatrix> aga(MatrixView w, MatrixView h,
                          const AsymmetricOptions &options = {});

/// How gptq() fits (α, μ) of a group.
enum class GroupFit { Itf, Aga };

/// Options of gptq().
struct GptqOptions {
  /// Columns per GPTQ block and per (α, μ) group; 0 for one group per row
  /// (fitted on W before any compensation, blocks of 128 for the updates).
  int64_t blockSize = 128;
  /// λ = percdamp · mean(diag H) is added to diag H.
  double percdamp = 0.01;
  GroupFit fit = GroupFit::Itf;
  /// ITF alternations per group fit.
  int maxIterations = 50;
  /// 0: the asymmetric ternary quantizer. 4 or 8: symmetric integer codes
  /// in ±(2^(intBits-1) − 1) with one absmax scale per group and no offset
  /// (GPTQ for the int4/int8 layers of mixed precision); `fit` is unused.
  unsigned intBits = 0;
};

/// GPTQ (Frantar et al. 2022) with the asymmetric ternary quantizer:
///  1. dead inputs (H_ii = 0) get H_ii = 1 and W[:, i] = 0; then
///     H += percdamp · mean(diag H) · I;
///  2. columns in order, in blocks of blockSize; when a block starts, its
///     (α, μ) per row are fitted (ITF, or AGA with the block's diagonal block
///     of the dampened H) on the weights updated by all earlier blocks;
///  3. each column j is rounded, q_j = α clip(round((w_j − μ)/α)) + μ, and
///     its error, scaled by the upper Cholesky factor U of H⁻¹
///     (H⁻¹ = UᵀU), is pushed onto the later columns:
///       e_j = (w_j − q_j) / U_jj,   w_k −= e_j U_jk  (k > j),
///     within the block at once and onto later blocks lazily.
/// Implementation: with V = U⁻¹ (upper, H = V Vᵀ, one Cholesky of the
/// reversed H, no inverse), the updated column is
///   w_j + (1/V_jj) Σ_{i<j} (w_i − q_i) V_ij
/// in the original w, which is the same algorithm, and the total error is
/// tr(E H Eᵀ) = Σ_j ‖e_j‖². Cost: cols³/3 for the Cholesky (double) and
/// rows·cols²/2 for the updates.
///
/// With `intBits`, the same with symmetric integer codes: each group's scale
/// is max|w| / qmax of the (compensated) group, the offset 0.
///
/// Fails on bad options, a bad `h`, or an H that is not positive definite
/// after dampening.
Result<TernaryMatrix> gptq(MatrixView w, MatrixView h,
                           const GptqOptions &options = {});

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_ASYMMETRIC_H
