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
    {-1, 0, +1} with a scale, and replaces the layer by a `ternary.qlinear`
    with a `#ternary.ternary` encoding. The codes and scales become new
    `ternary.weight` ops holding inline `dense_resource` values.

    Methods (`method=`):
    - `absmean`: BitNet b1.58, s = mean|W| over the tensor
      (`granularity=tensor`) or each row (`granularity=row`, the default),
      T = clip(round(W / s), -1, 1).

    #### Input invariant
    - Every `ternary.linear` takes its weight from a `ternary.weight` holding
      an inline f32 value (`dense` or `dense_resource`). A weight given by
      `#ternary.param` is reported as an error naming the layer: reading the
      parameter archive from passes is not supported yet.

    #### Output IR
    - No `ternary.linear` remains; each became a `ternary.qlinear` with
      `codes` (i8, [N, K]), `scales` (f32, [N, 1]) and the original bias,
      and encoding `#ternary.ternary<>` (one scale per row; a per-tensor
      scale is stored once per row, and its bits are counted that way).
    - The original weight ops are left for the canonicalizer to remove when
      unused.

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
           "Ternarization method: absmean">,
    Option<"granularityName", "granularity", "std::string", /*default=*/"\"row\"",
           "Scale granularity for absmean: tensor or row">,
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

#endif // TERMINATOR_PASSES_PASSES_TD
