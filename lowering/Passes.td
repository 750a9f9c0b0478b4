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

def TernaryParamsToArgumentsPass
    : Pass<"ternary-params-to-arguments", "::mlir::ModuleOp"> {
  let summary = "Turn archive weights into function arguments, for AOT code";
  let description = [{
    A compiled program maps the parameter archive at start-up and hands each
    weight to the model's functions as a buffer, so that no weight is copied
    into the object file. This pass prepares that: in every function, each
    distinct `ternary.weight #ternary.param<"NAME">` becomes a new trailing
    function argument of the weight's type, and the function gets the
    attribute `ternary.params = ["NAME", ...]` listing the archive entries
    of those arguments in order.

    ```mlir
    func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
      %w = ternary.weight #ternary.param<"w"> : tensor<2x4xf32>
      ...
    // becomes
    func.func @f(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>) -> tensor<1x2xf32>
        attributes {ternary.params = ["w"]} {
    ```

    #### Input invariant
    - Functions have bodies (no declarations use archive weights).

    #### Output IR
    - No `ternary.weight` with a `#ternary.param` value remains; inline
      weights are left alone.
  }];
}

#endif // TERMINATOR_LOWERING_PASSES_TD
