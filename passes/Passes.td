//===- Passes.td - ternary dialect passes ------------------*- tablegen -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_PASSES_TD
#define TERMINATOR_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def TernaryTernarizePass : Pass<"ternary-ternarize", "ModuleOp"> {
  let summary = "Replace full-precision linear layers by ternary ones";
  let description = [{
    Quantizes the weight of every `ternary.linear` to ternary codes
    {-1, 0, +1} with scales (and offsets) and replaces the layer by a
    `ternary.qlinear` with a `#ternary.ternary` encoding. The mathematics is
    in `passes/solvers/`; pt2 uses calibration statistics.

    Methods (`method=`):
    - `absmean`: BitNet b1.58, s = mean|W| over the tensor
      (`granularity=tensor`) or each row (`granularity=row`, the default),
      T = clip(round(W / s), -1, 1).
    - `als`: alternating least squares for min ‖W − αT‖_F, α per tensor or
      per row, or per `block-size` columns.
    - `itf`: PT²-LLM's asymmetric W ≈ αT + μ with iterative ternary fitting,
      per row (`block-size=0`) or per `block-size` columns.
    - `pt2`: PT²-LLM's recipe: ITF inside GPTQ error compensation, with the
      calibration Gram matrix H = XᵀX of the layer's inputs (from
      `calibration`), dampened by `percdamp`·mean(diag H); (α, μ) per row
      (`block-size=0`) or per `block-size` columns, GPTQ blocks of
      `block-size` (128 when 0). `group-fit=aga` fits each group's (α, μ)
      by PT²-LLM's Activation-aware Grid Alignment (least squares of the
      group's output error under H) instead of ITF. After GPTQ
      (`refit-scales`, on by default) every row's (α, μ) of all its groups
      are refitted jointly to the least squares of the output error under H
      for the codes GPTQ ended with (`solvers::refitScales`).

    Asymmetric calibration (`fit-target=fp`, the default): when the
    statistics hold `NAME.cross` = X̃ᵀX / rows (sequential calibration with
    the f32 program as teacher: X̃ the layer's inputs behind the already
    ternarized layers, X the f32 model's), pt2 quantizes the weights whose
    outputs on X̃ best match the f32 outputs X Wᵀ,
    W̃ = W + W (C − H)ᵀ (H + λI)⁻¹ (`solvers::fpOutputTarget`, GPTAQ),
    instead of W itself; `fit-target=self` ignores `NAME.cross`. The
    report's errors are then measured against W̃.

    With `calibration=STATS.tpar` (written by a calibration program, see
    docs/calibration.md) the report also gives each layer's relative output
    error tr(E H Eᵀ) / tr(W H Wᵀ), E = W − Ŵ, whatever the method.

    With `report=FILE` the pass writes one JSON record per layer (name,
    shape, method, encoding, real bits per weight with scales and offsets
    counted, relative Frobenius error, sparsity, code balance) and prints
    the same as a table on stderr.

    With `layers=a,b,...` only those weights (archive entry names) are
    ternarized and every other `ternary.linear` is left as it is (sequential
    calibration ternarizes the model stage by stage this way).

    A `ternary.linear` marked `ternary.precision = "int8"` or `"int4"` (by
    `ternary-select-precision`) is quantized to int8 per row (like those
    named in `int8-layers`) or int4 per row or `int4-group` columns; `"f32"`
    stays as it is. With `method=pt2` and calibration, integer layers go
    through GPTQ too (symmetric absmax codes, the same error compensation);
    otherwise they are rounded to nearest.

    Weights named in `int8-layers` (archive entry names) get
    `#ternary.int<bits = 8>` per row instead: the classifier and other
    sensitive matrices.

    Weights held inline (`dense`, `dense_resource`) give inline codes and
    scales. Weights in the parameter archive (`#ternary.param`) are read from
    the module's archive; codes, scales and offsets go to a new archive,
    `output-archive`, as entries `NAME.codes`, `NAME.scales` and
    `NAME.offsets`, together with every other entry the module still uses,
    and the module attribute `ternary.archive` then names the new archive.

    #### Input invariant
    - Every `ternary.linear` takes an f32 weight from a `ternary.weight`.
    - If any weight is an archive entry, `output-archive` is set.

    #### Output IR
    - No `ternary.linear` remains; each became a `ternary.qlinear` with
      `codes` (i8 [N, K]), `scales` (f32 [N, G]), `offsets` for `itf`, and
      the original bias. Full-precision weights that lost their last use are
      erased.

    ```mlir
    // Before
    %w = ternary.weight dense<[[0.5, -1.0], [0.0, 2.0]]> : tensor<2x2xf32>
    %y = ternary.linear %x, %w : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
    // After
    %c = ternary.weight dense_resource<...> : tensor<2x2xi8>
    %s = ternary.weight dense_resource<...> : tensor<2x1xf32>
    %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : ...
    ```
  }];
  let options = [
    Option<"method", "method", "std::string", /*default=*/"\"absmean\"",
           "Ternarization method: absmean, als, itf or pt2">,
    Option<"granularityName", "granularity", "std::string",
           /*default=*/"\"row\"",
           "Scale granularity for absmean and als: tensor or row">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Columns per scale group for als and itf (0: one group per row)">,
    ListOption<"onlyLayers", "layers", "std::string",
               "Archive entry names of the only weights to ternarize (all "
               "when empty); the others stay ternary.linear">,
    ListOption<"int8Layers", "int8-layers", "std::string",
               "Archive entry names of weights to keep at int8 per row "
               "(symmetric absmax) instead of ternary, e.g. the classifier">,
    Option<"outputArchive", "output-archive", "std::string",
           /*default=*/"\"\"",
           "Archive to write when the weights come from an archive">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration statistics (.tpar with NAME.hessian entries)">,
    Option<"percdamp", "percdamp", "double", /*default=*/"0.01",
           "GPTQ dampening for pt2, a fraction of mean(diag H)">,
    Option<"groupFit", "group-fit", "std::string", /*default=*/"\"itf\"",
           "How pt2 fits each group's (alpha, mu): itf or aga">,
    Option<"refitScales", "refit-scales", "bool", /*default=*/"true",
           "pt2: after GPTQ, refit each row's scales and offsets jointly to "
           "the least squares of the output error under H">,
    Option<"fitTarget", "fit-target", "std::string", /*default=*/"\"fp\"",
           "pt2: fp fits the f32 model's layer outputs when the statistics "
           "hold NAME.cross (asymmetric calibration); self fits W">,
    Option<"int4Group", "int4-group", "int64_t", /*default=*/"0",
           "Columns per scale of layers marked int4 (0: one scale per row)">,
    Option<"scaleTypeName", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Element type of the scales and offsets: f32, or f16 (rounded to "
           "nearest; half the meta bits)">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Write a per-layer report as JSON to this file, and print it as a "
           "table on stderr">,
    Option<"progress", "progress", "bool", /*default=*/"false",
           "Print a line per weight on stderr as it is ternarized (its "
           "number, name, shape and seconds): for big models">,
  ];
  let dependentDialects = ["::mlir::ternary::TernaryDialect"];
}

def TernaryPackPass : Pass<"ternary-pack", "ModuleOp"> {
  let summary = "Rewrite ternary codes into the micro-kernels' 2-bit layout";
  let description = [{
    Turns every `ternary.qlinear` with a `#ternary.ternary` encoding (f32
    scales, `block` 0, 64, 128 or a multiple of 256) into a
    `ternary.packed_linear` whose weights are in the layout of
    docs/kernels.md: 2-bit codes c = T + 1, a 256-column block in 64 bytes
    with byte j holding columns 256·b + 64·s + j in bits 2s..2s+1, and
    f32 (α, μ − α) pairs per group. Other encodings (int8, float, blocks
    the kernels do not support) are left to the reference lowering.

    Archive weights are read from the module's `ternary.archive`; the packed
    entries `KEY.packed` (i8 [N, Kp / 4]) and `KEY.meta` (f32 [N, G, 2]),
    where KEY is the codes entry without its `.codes` suffix, go to
    `output-archive` together with every other entry the module still uses.
    Inline weights are packed inline. A weight shared by several functions
    is packed once.

    ```mlir
    %y = ternary.qlinear %x, %codes scales %alpha
           encoding(#ternary.ternary<>) : (tensor<1x300xf32>,
           tensor<8x300xi8>, tensor<8x1xf32>) -> tensor<1x8xf32>
    // becomes
    %y = ternary.packed_linear %x, %packed, %meta {cols = 300 : i64, group = 0 : i64}
           : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
    ```

    #### Input invariant
    - Codes are in {-1, 0, 1} (checked; an error names the layer).

    #### Output IR
    - No packable `ternary.qlinear` remains; the unpacked codes are unused.
  }];
  let options = [
    Option<"outputArchive", "output-archive", "std::string",
           /*default=*/"\"\"",
           "Archive to write when the weights come from an archive">,
  ];
  let dependentDialects = ["::mlir::ternary::TernaryDialect"];
}

def TernaryInlineParamsPass : Pass<"ternary-inline-params", "ModuleOp"> {
  let summary = "Copy the archive entries a module uses into inline blobs";
  let description = [{
    Reads the parameter archive named by the module attribute
    `ternary.archive` (or by the `archive` option), checks every entry that a
    `#ternary.param` refers to against its use (dtype and shape), and
    replaces each reference by a `dense_resource` blob holding a copy of the
    data. The module then no longer needs the archive, and the attribute is
    removed. Meant for small models and tests: the IR then carries every
    weight, which the archive exists to avoid for large models.

    #### Input invariant
    - A module whose `ternary.weight` ops refer to entries of one archive.

    #### Output IR
    - Every `ternary.weight #ternary.param<"k"> : T` became
      `ternary.weight dense_resource<k> : T`; no `ternary.archive` attribute.
  }];
  let options = [
    Option<"archive", "archive", "std::string", /*default=*/"\"\"",
           "Archive to read (default: the module's ternary.archive, "
           "relative to the working directory)">,
  ];
}

def TernarySsrReorderPass : Pass<"ternary-ssr-reorder", "::mlir::ModuleOp"> {
  let summary = "Reorder each layer's input columns so that similar columns share a block (SSR)";
  let description = [{
    PT²-LLM's structural-similarity reordering. For every f32
    `ternary.linear` with more than `block-size` input columns, the columns
    of its weight are clustered greedily into blocks of `block-size`
    (`passes/solvers/Reorder.h`: each block starts from the remaining
    column of largest norm and takes the columns whose magnitude profiles
    |W[:, j]| are most similar to it, cosine times scale agreement), so that
    the per-block (α, μ) of `ternary-ternarize` with the same `block-size`
    fits columns alike, and outlier columns share their blocks. The layer
    then reads its input through the matching activation permutation:

    ```mlir
    %p = ternary.permute %x [2, 0, 3, 1] : tensor<1x4xf32>
    %y = ternary.linear %p, %w_perm {ternary.input_permutation = array<i64: 2, 0, 3, 1>} ...
    ```

    `ternary.input_permutation` records the permutation on the layer:
    passes that read its calibration statistics (kept in the model's
    original column order) permute them through it.

    With `fold` (the default) the permutation is folded into the ops that
    produce the activation where that is exact: through elementwise
    `linalg.generic`s (operands indexed by the identity, or independent of
    the feature dimension) into bias-free `ternary.linear`s with archive
    weights, whose rows (output features) are then permuted instead. In a
    Llama MLP, the down projection's permutation becomes a row permutation
    of the gate and up projections and costs nothing at run time. A fold is
    made only when every use of the permuted values, and every use of each
    producer's weight in the module, goes the same way; otherwise the
    `ternary.permute` stays (a gather of K floats per token).

    Layers marked with a `ternary.precision` other than "ternary" are left
    alone. Archive weights are written to `output-archive` under their own
    names (columns, and rows where folded, permuted). For each permutation
    left in the IR an entry `NAME.input_permutation` (i64 [K]) records it
    for tools that decode the archive (`tools/convert/ternarized_onnx.py`);
    the module attribute `ternary.records` lists those entries so that later
    passes keep them.

    #### Input invariant
    - Weights are f32 `ternary.weight`s (inline or `#ternary.param`).

    #### Output IR
    - Reordered layers read a `ternary.permute` of their input (or, folded,
      the permuted output of their producers) and carry
      `ternary.input_permutation`.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Columns per block, as ternary-ternarize's block-size; layers of "
           "at most this many columns are left alone">,
    Option<"fold", "fold", "bool", /*default=*/"true",
           "Fold the activation permutation into its producers where exact">,
    ListOption<"onlyLayers", "layers", "std::string",
               "Archive entry names of the only weights to reorder (all when "
               "empty)">,
    ListOption<"excludeLayers", "exclude-layers", "std::string",
               "Archive entry names of weights to leave alone">,
    Option<"outputArchive", "output-archive", "std::string",
           /*default=*/"\"\"",
           "Archive to write when the weights come from an archive">,
  ];
  let dependentDialects = ["::mlir::ternary::TernaryDialect"];
}

def TernarySplitOutliersPass
    : Pass<"ternary-split-outliers", "::mlir::ModuleOp"> {
  let summary = "Keep each layer's most salient weights as a sparse f16 residual";
  let description = [{
    Outlier splitting, W = W' + S: in every f32 `ternary.linear`, the
    `fraction` of the weights with the largest salience |W[r, c]|·
    sqrt(H[c, c]) (H the calibration Gram matrix, `calibration=STATS`;
    |W| without) move to a sparse matrix S in CSR form, with f16 values and
    i32 column indices, and are zeroed in W'. The layer becomes

    ```mlir
    %d = ternary.linear %x, %w_rest ...
    %y = ternary.sparse_residual %d, %x, %rows, %cols, %values ...
    ```

    so that ternary-ternarize, run next, quantizes W' only and the outliers
    stay exact (to f16). Archive weights are written to `output-archive`:
    W' under its own name, S as `NAME.outlier_rows` (i32 [N + 1]),
    `NAME.outlier_cols` (i32 [nnz]) and `NAME.outlier_values` (f16 [nnz]).
    Real bits: 48 per outlier (16 value + 32 index) and 32 per row, on top
    of the ternary encoding's. Layers marked with a `ternary.precision`
    other than "ternary" (int4, int8 or f32, by mixed precision or as
    terminator-compile's head) are left alone.

    #### Input invariant
    - Weights are f32 `ternary.weight`s (inline or `#ternary.param`).

    #### Output IR
    - Each selected `ternary.linear` followed by a `ternary.sparse_residual`.
  }];
  let options = [
    Option<"fraction", "fraction", "double", /*default=*/"0.0",
           "Fraction of each matrix's weights kept as outliers, in (0, 1)">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration statistics (.tpar with NAME.hessian entries)">,
    ListOption<"onlyLayers", "layers", "std::string",
               "Archive entry names of the only weights to split (all when "
               "empty)">,
    ListOption<"excludeLayers", "exclude-layers", "std::string",
               "Archive entry names of weights to leave alone (e.g. an int8 "
               "head)">,
    Option<"outputArchive", "output-archive", "std::string",
           /*default=*/"\"\"",
           "Archive to write when the weights come from an archive">,
  ];
  let dependentDialects = ["::mlir::ternary::TernaryDialect"];
}

def TernarySelectPrecisionPass
    : Pass<"ternary-select-precision", "::mlir::ModuleOp"> {
  let summary = "Choose ternary, int4 or int8 per linear layer under a bits budget";
  let description = [{
    Mixed precision: gives the linear layers whose ternarization hurts most
    more bits, int4 or int8 per row (symmetric, a scale per row, f32 or f16
    as `scale-type`), as long
    as the real bits per linear weight over the whole model stay within
    `bits-per-weight` (scales and offsets counted with the encodings' own
    `getBitsPerWeight`), and marks each `ternary.linear` with
    `ternary.precision = "ternary"`, `"int4"` or `"int8"`;
    `ternary-ternarize` obeys the mark.

    Error of a layer at a precision: the relative output error tr(E H Eᵀ) /
    tr(W H Wᵀ) of that encoding (ternary: absmean per row, a cheap stand-in
    for the final method; int4/int8: rounding per row) on the calibration
    Gram matrix H (`calibration=STATS`); without calibration, the relative
    Frobenius error. Starting from all ternary, each round moves the one
    layer to a higher precision that removes the most error per added bit
    and still fits the budget, until no move fits. Relative rather than
    absolute error: picking by absolute error chose the wrong matrices in
    the numpy study of the ternarization issue. `precisions` lists the
    levels above ternary (default int4 and int8; `f32` keeps a layer
    unquantized at 32 bits and zero error, and is only used when listed).

    Ternary layers are counted at the cost of the `method` the ternarize
    pass will use (itf and pt2 add an offset per row or per `block-size`
    columns). SSR permutations that `ternary-ssr-reorder` leaves before a
    layer (16 bits per column) are not in the budget. Layers named in
    `int8-layers` (terminator-compile's output head, by default) are marked
    "int8" and left out: the budget is over the other linear weights; so is
    a layer that already carries a `ternary.precision` mark (terminator-
    compile marks the output head so), which keeps it.

    #### Input invariant
    - Weights are f32 `ternary.weight`s (inline or `#ternary.param` in the
      module's archive).

    #### Output IR
    - Unchanged but for the `ternary.precision` attribute on every
      `ternary.linear`.
  }];
  let options = [
    Option<"bitsPerWeight", "bits-per-weight", "double", /*default=*/"0.0",
           "Budget of real bits per linear weight (required)">,
    Option<"method", "method", "std::string", /*default=*/"\"absmean\"",
           "The ternarization method whose cost ternary layers have">,
    Option<"calibration", "calibration", "std::string", /*default=*/"\"\"",
           "Calibration statistics (.tpar with NAME.hessian entries)">,
    ListOption<"precisions", "precisions", "std::string",
               "Precisions above ternary a layer may take: int4, int8, f32 "
               "(default int4 and int8)">,
    Option<"int4Group", "int4-group", "int64_t", /*default=*/"0",
           "Columns per int4 scale (0: one scale per row)">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"0",
           "Columns per scale group of ternary layers, as ternary-ternarize's "
           "block-size (0: one per row)">,
    Option<"scaleTypeName", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Element type of the scales ternary-ternarize will write: f32 or "
           "f16 (counted in each level's bits)">,
    ListOption<"int8Layers", "int8-layers", "std::string",
               "Archive entry names of weights kept at int8 whatever the "
               "budget (e.g. the output head): marked int8 and left out of "
               "the budget and its bits count">,
  ];
}

#endif // TERMINATOR_PASSES_PASSES_TD
