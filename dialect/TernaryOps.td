//===- TernaryOps.td - ternary dialect operations ----------*- tablegen -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYOPS_TD
#define TERMINATOR_DIALECT_TERNARYOPS_TD

include "dialect/TernaryDialect.td"
include "dialect/TernaryAttrs.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Ternary_WeightValueAttr : AnyAttrOf<[Ternary_ParamAttr, ElementsAttr]> {
  let storageType = "::mlir::TypedAttr";
  let returnType = "::mlir::TypedAttr";
  let convertFromStorage = "$_self";
}

def Ternary_EncodingAttr : Attr<
    CPred<"::llvm::isa<::mlir::ternary::WeightEncodingAttrInterface>($_self)">,
    "weight encoding attribute"> {
  let storageType = "::mlir::ternary::WeightEncodingAttrInterface";
  let returnType = "::mlir::ternary::WeightEncodingAttrInterface";
  let convertFromStorage = "$_self";
}

def Ternary_FloatTensor : RankedTensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

def Ternary_WeightOp : Ternary_Op<"weight",
    [Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "A weight tensor: an archive entry or a small inline value";
  let description = [{
    Produces a statically shaped tensor whose contents are either the entry
    `#ternary.param<"name">` of the module's parameter archive (how imported
    models refer to their weights: the IR text holds no weight data) or an
    inline `ElementsAttr` such as `dense_resource<...>` or `dense<...>`, for
    small tests. The value's type is the result type.

    ```mlir
    %w = ternary.weight #ternary.param<"layers.0.attention.wq"> : tensor<64x64xf32>
    %b = ternary.weight dense<0.5> : tensor<64xf32>
    %c = ternary.weight dense_resource<codes> : tensor<64x64xi8>
    ```
  }];
  let arguments = (ins Ternary_WeightValueAttr:$value);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let builders = [
    OpBuilder<(ins "::mlir::TypedAttr":$value), [{
      build($_builder, $_state, value.getType(), value);
    }]>
  ];
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

def Ternary_LinearOp : Ternary_Op<"linear", [Pure]> {
  let summary = "Full-precision linear layer y = x · Wᵀ + b";
  let description = [{
    The linear layer as imported: `input` is `[..., K]`, `weight` is `[N, K]`
    (output features by input features, as in `torch.nn.Linear`), the
    optional `bias` is `[N]`, and the result is `[..., N]` with the same
    leading dimensions as `input`. All element types are the same float type.
    Ternarization passes find these ops and replace them with
    `ternary.qlinear`.

    ```mlir
    %w = ternary.weight #ternary.param<"wq"> : tensor<128x64xf32>
    %y = ternary.linear %x, %w : (tensor<1x7x64xf32>, tensor<128x64xf32>) -> tensor<1x7x128xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$input, Ternary_FloatTensor:$weight,
                       Optional<Ternary_FloatTensor>:$bias);
  let results = (outs Ternary_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// QLinearOp
//===----------------------------------------------------------------------===//

def Ternary_QLinearOp : Ternary_Op<"qlinear",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Linear layer whose weights carry a low-bit encoding";
  let description = [{
    y = x · Ŵᵀ + b, where Ŵ is decoded from `codes` (and `scales`, `offsets`)
    by `encoding`. With N output and K input features and G =
    `encoding.getGroupsPerRow(K)` groups per row:

    | encoding | `codes` | `scales` | `offsets` |
    |---|---|---|---|
    | `#ternary.ternary` | `[N, K]` i8 in {-1, 0, 1} | `[N, G]` scale type | `[N, G]` iff `offset = true` |
    | `#ternary.int` | `[N, K]` i8 in ±(2^(bits-1) − 1) | `[N, G]` scale type | none |
    | `#ternary.float` | `[N, K]` weights of `type` | none | none |

    Ŵ[n, k] = scales[n, g]·codes[n, k] + offsets[n, g] with g = k / group.
    `input` is `[..., K]` float, the optional `bias` is `[N]` and the result
    `[..., N]` with the leading dimensions of `input`. The value range of
    the codes is the producer's contract; it is checked when the weights are
    read, not here. The packing pass later rewrites the codes into the
    kernel layout.

    ```mlir
    %y = ternary.qlinear %x, %codes scales %alpha offsets %mu
           encoding(#ternary.ternary<block = 32, offset = true>)
           : (tensor<1x64xf32>, tensor<128x64xi8>, tensor<128x2xf32>,
              tensor<128x2xf32>) -> tensor<1x128xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$input,
                       AnyRankedTensor:$codes,
                       Optional<Ternary_FloatTensor>:$scales,
                       Optional<Ternary_FloatTensor>:$offsets,
                       Optional<Ternary_FloatTensor>:$bias,
                       Ternary_EncodingAttr:$encoding);
  let results = (outs Ternary_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $codes (`scales` $scales^)? (`offsets` $offsets^)?
    (`bias` $bias^)? `encoding` `(` $encoding `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// PackedLinearOp
//===----------------------------------------------------------------------===//

def Ternary_PackedLinearOp : Ternary_Op<"packed_linear", [Pure]> {
  let summary = "Linear layer with ternary or int8 weights in the kernel layout";
  let description = [{
    y = x · Ŵᵀ + b for a weight W [N, K] stored in the layout the
    micro-kernels read (docs/kernels.md), with unsigned codes c[n, k] and
    Ŵ[n, k] = α·c[n, k] + β per group. Kp is K rounded up to a multiple of
    256.

    - `bits = 2` (ternary): c = T + 1 in {0, 1, 2}. `packed` is i8
      `[N, Kp / 4]`: row n is Kp / 256 blocks of 64 bytes; byte j of block
      b holds the codes of columns k = 256·b + 64·s + j in bits 2s..2s+1
      (s = 0..3). Columns k >= K hold code 0. β = μ − α.
    - `bits = 4` (int4 per row or group): c = Q + 8 in [1, 15], two per
      byte: `packed` is i8 `[N, Kp / 2]`, row n is Kp / 256 blocks of 128
      bytes; byte j (0..63) of block b holds column 256·b + j in its low
      nibble and 256·b + 64 + j in its high one, byte 64 + j holds
      256·b + 128 + j and 256·b + 192 + j (8 past K). α is the int4 scale
      and β = −8·α.
    - `bits = 8` (int8 per row or group): c = Q + 128 in [1, 255], one
      byte per column: `packed` is i8 `[N, Kp]`, byte k of row n holds
      column k (128 past K). α is the int8 scale and β = −128·α.
    - `meta` is f32 or f16 `[N, Gp, 2]`: for every group g of `group` columns
      (`group = 0`: the whole padded row, Gp = 1), `meta[n, g, 0]` = α and
      `meta[n, g, 1]` = β. Gp = Kp / group rounded up; groups past K hold
      zeros.
    - `group` is 0, 64, 128 or a multiple of 256.

    `input` is `[..., K]` f32, the optional `bias` `[N]`, the result
    `[..., N]`. `ternary-pack` produces it from `ternary.qlinear`;
    `convert-ternary-to-kernels` lowers it to the target's micro-kernel,
    which quantizes activations to int8 per token. `bits` defaults to 2.

    ```mlir
    %y = ternary.packed_linear %x, %packed, %meta {cols = 300 : i64, group = 0 : i64}
           : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$input,
                       RankedTensorOf<[I8]>:$packed,
                       RankedTensorOf<[F32, F16]>:$meta,
                       Optional<Ternary_FloatTensor>:$bias,
                       I64Attr:$cols,
                       I64Attr:$group,
                       DefaultValuedAttr<I64Attr, "2">:$bits);
  let results = (outs Ternary_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $packed `,` $meta (`bias` $bias^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Columns per 2-bit block: 256 weights in 64 bytes.
    static constexpr int64_t kBlockCols = 256;
    /// K rounded up to whole blocks.
    static int64_t paddedCols(int64_t cols) {
      return (cols + kBlockCols - 1) / kBlockCols * kBlockCols;
    }
    /// Columns of one (α, μ − α) group: `group`, or the padded row.
    static int64_t groupCols(int64_t cols, int64_t group) {
      return group == 0 ? paddedCols(cols) : group;
    }
    /// Groups per row in `meta`.
    static int64_t groupsPerRow(int64_t cols, int64_t group) {
      int64_t g = groupCols(cols, group);
      return (paddedCols(cols) + g - 1) / g;
    }
    /// Bytes of one packed row of `cols` columns with `bits`-bit codes.
    static int64_t packedRowBytes(int64_t cols, int64_t bits) {
      return paddedCols(cols) * bits / 8;
    }
    /// Whether the kernels support groups of `group` columns.
    static bool isSupportedGroup(int64_t group) {
      return group == 0 || group == 64 || group == 128 ||
             (group > 0 && group % kBlockCols == 0);
    }
  }];
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

def Ternary_PermuteOp : Ternary_Op<"permute",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Permutes the last (feature) dimension of activations";
  let description = [{
    result[..., i] = input[..., permutation[i]]. SSR column reordering
    permutes the input columns of a weight matrix so that similar columns
    share a quantization block; the matching activation permutation is this
    op, placed before the layer and folded into its producer where legal.
    `permutation` must hold every index in [0, K) exactly once.

    ```mlir
    %p = ternary.permute %x [2, 0, 3, 1] : tensor<1x4xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Ternary_FloatTensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// SparseResidualOp
//===----------------------------------------------------------------------===//

def Ternary_SparseResidualOp : Ternary_Op<"sparse_residual",
    [Pure, AllTypesMatch<["acc", "result"]>]> {
  let summary = "Adds x · Sᵀ for a sparse outlier matrix S in CSR form";
  let description = [{
    result = acc + input · Sᵀ, where S is the sparse `[N, K]` residual that
    outlier splitting keeps at full precision (W = ternary part + S). S is in
    compressed sparse row form: `row_offsets` `[N + 1]`, `col_indices`
    `[nnz]` and `values` `[nnz]` (the accumulator's element type, or f16,
    widened when read). `acc` and the result are `[..., N]`, `input` is
    `[..., K]` with the same leading dimensions. `ternary-split-outliers`
    produces it; `convert-ternary-to-linalg` lowers it to a loop over each
    row's entries.

    ```mlir
    %r = ternary.sparse_residual %y, %x, %rows, %cols, %vals
           : (tensor<1x128xf32>, tensor<1x64xf32>, tensor<129xi32>,
              tensor<40xi32>, tensor<40xf32>) -> tensor<1x128xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$acc, Ternary_FloatTensor:$input,
                       RankedTensorOf<[I32, I64]>:$row_offsets,
                       RankedTensorOf<[I32, I64]>:$col_indices,
                       Ternary_FloatTensor:$values);
  let results = (outs Ternary_FloatTensor:$result);
  let assemblyFormat = [{
    $acc `,` $input `,` $row_offsets `,` $col_indices `,` $values attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// QuantizeActOp
//===----------------------------------------------------------------------===//

def Ternary_QuantizeActOp : Ternary_Op<"quantize_act", [Pure]> {
  let summary = "Per-token absmax quantization of activations to int8";
  let description = [{
    For every token (every index of the leading dimensions of `input`
    `[..., K]`): scale = max|x| / 127, codes = round(x / scale) in
    [-127, 127]. `codes` has the shape of `input` with element type i8,
    `scale` has the leading dimensions of `input` and its float type. The
    integer kernels consume the codes and rescale their int32 sums.

    ```mlir
    %q, %s = ternary.quantize_act %x : tensor<3x64xf32> -> tensor<3x64xi8>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Ternary_FloatTensor:$input);
  let results = (outs RankedTensorOf<[I8]>:$codes, Ternary_FloatTensor:$scale);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($codes) `,` type($scale)
  }];
  let hasVerifier = 1;
}

#endif // TERMINATOR_DIALECT_TERNARYOPS_TD
