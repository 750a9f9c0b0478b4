//===- Passes.td - TerMinator lowering passes --------------*- tablegen -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_PASSES_TD
#define TERMINATOR_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTernaryToLinalgPass : Pass<"convert-ternary-to-linalg"> {
  let summary = "Reference lowering of the ternary dialect to linalg on f32";
  let description = [{
    Lowers every ternary op to linalg, tensor and arith with the op's exact
    semantics, for checking numerics and measuring quality: the weights are
    decoded to f32 and multiplied in f32. It is not the fast path (that is
    the per-ISA micro-kernels of the lowering issue).

    - `ternary.weight` with an inline value becomes `arith.constant`.
    - `ternary.linear`: y[..., n] = Σ_k x[..., k]·W[n, k] + b[n].
    - `ternary.qlinear`: W[n, k] = scales[n, k / G]·codes[n, k] +
      offsets[n, k / G] (G the encoding's group size), then as linear.
    - `ternary.permute`: y[..., i] = x[..., perm[i]].

    #### Input invariant
    - Weights are inline (`dense` / `dense_resource`); run
      `ternary-inline-params` first for an archive-backed module.
    - No `ternary.sparse_residual` or `ternary.quantize_act` (not lowered
      yet: the pass fails naming the op).

    #### Output IR
    - No ternary op remains; linalg.generic contractions with the weight
      as a constant.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // TERMINATOR_LOWERING_PASSES_TD
