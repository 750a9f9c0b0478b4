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
    - `ternary.sparse_residual`: y[..., n] = acc[..., n] + Σ values[j]·
      x[..., cols[j]] over row n's entries, an `scf.for` inside a parallel
      `linalg.generic` (f16 values widened).

    #### Input invariant
    - Weights are inline (`dense` / `dense_resource`); run
      `ternary-inline-params` first for an archive-backed module.
    - No `ternary.quantize_act` (not lowered yet: the pass fails naming the
      op).

    #### Output IR
    - No ternary op remains; linalg.generic contractions with the weight
      as a constant.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
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

def TerminatorKvCacheInPlacePass
    : Pass<"terminator-kv-cache-in-place", "::mlir::ModuleOp"> {
  let summary = "Write a decode step's new key and value into the cache in place";
  let description = [{
    An exported decoder takes its KV cache as `past` inputs of P slots and
    returns `present = concat(past, new)` of P + 1 slots, so every decode
    step copies the whole cache once inside the model (and the caller copies
    the new slot back). This pass turns each such pair into one in-place
    buffer: in every function, a returned `tensor.concat` along dimension d
    whose first operand is a function argument used only there, with P > 0
    slots, and whose second operand has one slot, becomes

    ```mlir
    %present = tensor.insert_slice %new into %cache[0, .., %slot, .., 0]
    ```

    where `%cache` is that argument, now of the concat's type (P + 1 slots),
    and `%slot` is read from a new trailing argument `tensor<1xi64>` with
    the attribute `terminator.cache_slot`. The concat's result is dropped
    from the function's results; the function records the dropped result
    indices in `terminator.in_place_cache`. One-shot bufferization then
    writes the new slot into the caller's cache buffer and the attention
    reads it there: the caller keeps one cache of P + 1 slots, passes the
    slot of the new token, and masks the slots that hold no token yet.
    Functions without such a concat (a prefill with P = 0) are unchanged.

    #### Input invariant
    - Tensor-level functions (before bufferization).

    #### Output IR
    - No returned concat of a cache argument remains in a rewritten
      function; every other op is unchanged.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def ConvertTernaryToKernelsPass
    : Pass<"convert-ternary-to-kernels", "::mlir::ModuleOp"> {
  let summary = "Lower packed ternary linear layers to per-ISA micro-kernels";
  let description = [{
    Replaces every `ternary.packed_linear` with a call to the runtime's
    `trt_ternary_linear`, which quantizes the activations to int8 per token
    and runs a micro-kernel that this pass emits for the op's static shape
    (M tokens, N rows, K columns, group) and the target's instruction set,
    over the rows on the runtime's thread pool (docs/kernels.md).

    The kernel is a private function
    `@trt_ternary_<isa>_m<M>_n<N>_k<K>_g<group>(packed, meta, xq, xmeta, y,
    row_begin, row_end)` over `!llvm.ptr` and `i64`, built from `scf.for`,
    LLVM loads, `llvm.intr.prefetch` 8 KiB ahead of the weight stream and
    the ISA's dot product named explicitly:

    | isa | instruction | intrinsic |
    |---|---|---|
    | `avx512-vnni` | vpdpbusd | `llvm.x86.avx512.vpdpbusd.512` |
    | `avx2` | vpmaddubsw, vpmaddwd | `llvm.x86.avx2.pmadd.ub.sw`, `llvm.x86.avx2.pmadd.wd` |
    | `neon-dotprod` | sdot | `llvm.aarch64.neon.sdot.v4i32.v16i8` |

    Register tiles: a GEMV (M = 1) handles 4 rows at a time, a GEMM 4 (AVX2:
    2) rows × 4 tokens (2 when the encoding has groups), with scalar tails.

    The ISA comes from option `isa`, or else from the module's
    `ternary.target` (lowering/Target.h); with no kernel ISA (`none`, e.g.
    plain x86-64) the pass leaves the ops alone.

    #### Input invariant
    - Tensor-level IR (before bufferization); `ternary.packed_linear` ops
      have static shapes.

    #### Output IR
    - No `ternary.packed_linear` remains (unless the ISA is `none`); one
      kernel function per distinct shape; `bufferization.to_buffer`,
      `memref.alloc` and `bufferization.to_tensor` around each call.
  }];
  let options = [
    Option<"isaName", "isa", "std::string", /*default=*/"\"\"",
           "Kernel ISA: avx512-vnni, avx2, neon-dotprod or none; empty: "
           "from the module's ternary.target">,
    Option<"minRowsPerThread", "min-rows-per-thread", "int64_t",
           /*default=*/"64",
           "Rows below which a layer runs on one thread">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def TerminatorOutlineLinearsPass
    : Pass<"terminator-outline-linears", "::mlir::ModuleOp"> {
  let summary = "One private function per linear layer signature";
  let description = [{
    Linear layers that stay on loops (f32 layers, and quantized encodings
    without a micro-kernel) would be lowered in place, so a program holds
    one vectorized loop nest per layer and per specialization: for a 22-layer
    1.1B model compiled into six functions, over 900 nests, and LLVM spends
    minutes on them. This pass moves each `ternary.linear` and
    `ternary.qlinear` into a private function `trt_linear_N`, one per
    distinct signature and attributes, marked `noinline` (LLVM's
    `passthrough`), and calls it; every later pass lowers the body once.

    #### Input invariant
    - Tensor-level ternary ops inside `func.func`s.

    #### Output IR
    - `func.call`s of private functions, each holding one linear op.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def TerminatorFuseElementwisePass
    : Pass<"terminator-fuse-elementwise"> {
  let summary = "Fuse copies, broadcasts, transposes and elementwise ops into their consumers";
  let description = [{
    The importer writes each ONNX op as its own `linalg` op, so a decode
    step's attention materializes the grouped-query repeat of the whole KV
    cache (Unsqueeze, Expand, Reshape) and its transpose before the product
    with the query reads them once. This pass makes static `tensor.reshape`
    ops that split or merge neighbouring dimensions `tensor.expand_shape` /
    `tensor.collapse_shape`, writes `linalg.transpose` and
    `linalg.broadcast` as `linalg.generic`, and then applies upstream
    elementwise fusion and reshape propagation by expansion. A producer is
    fused only when it has no other use and fusing adds no work: it only
    moves data, or its consumer runs no more iterations than it did (a
    dequantization fuses into a decode step's product, not into a prefill's
    where it would be recomputed for every token). The product then reads
    the cache where it lies, with the head index mapped to its KV head.

    #### Input invariant
    - Tensor-level linalg (before bufferization).

    #### Output IR
    - The same computation in fewer `linalg.generic` ops.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def TerminatorInterchangeLoopsPass
    : Pass<"terminator-interchange-loops"> {
  let summary = "Put the loop that walks contiguous memory innermost";
  let description = [{
    `convert-linalg-to-loops` nests the loops of a `linalg.generic` in the
    order of its iterators, reductions last. For a matmul C[i, j] += A[i, k]
    · B[k, j] that makes k innermost, so B is read with a stride and the
    vectorizer gathers. This pass scores every loop d of each generic by
    the operands whose last index is d (read contiguously) minus those that
    index d elsewhere (strided), and moves the best loop innermost when it
    beats the current innermost loop and runs at least 8 iterations. The
    linear layers' y[m, n] = Σ x[m, k]·w[n, k] keep k innermost; the
    attention products of a decode step get their long dimension innermost.

    #### Input invariant
    - Any IR; only `linalg.generic` ops change.

    #### Output IR
    - The same computation with permuted iterators and indexing maps
      (`linalg::interchangeGenericOp`).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TerminatorApproximateMathPass
    : Pass<"terminator-approximate-math"> {
  let summary = "Expand f32 exp into a polynomial the loop vectorizer can vectorize";
  let description = [{
    `convert-math-to-libm` turns `math.exp` into a call of libm's `expf`,
    one element at a time: the loop around it (softmax, sigmoid, SiLU) stays
    scalar. This pass rewrites f32 `math.exp` (scalar or vector) into
    upstream MLIR's polynomial approximation (range reduction by ln 2 and a
    polynomial, `populateMathPolynomialApproximationPatterns`), plain
    arithmetic that LLVM vectorizes with the loop. Other functions keep
    libm. Softmax and SwiGLU built this way agree with Halide's to 4.2e-7 of
    the largest output, and compiled stories260K still scores 118.1 on
    WikiText-2 (test/e2e/compile-stories260K.test). `terminator-bench dense`
    measures the effect (docs/dense-ops.md).

    #### Input invariant
    - Any IR.

    #### Output IR
    - No f32 `math.exp`; arith, math.fma and bit casts in its place.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::vector::VectorDialect",
  ];
}

#endif // TERMINATOR_LOWERING_PASSES_TD
