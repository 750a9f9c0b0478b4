//===- TernaryAttrs.td - weight encodings and parameters ---*- tablegen -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYATTRS_TD
#define TERMINATOR_DIALECT_TERNARYATTRS_TD

include "dialect/TernaryDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// WeightEncodingAttrInterface
//===----------------------------------------------------------------------===//

def Ternary_WeightEncodingAttrInterface
    : AttrInterface<"WeightEncodingAttrInterface"> {
  let cppNamespace = "::mlir::ternary";
  let description = [{
    A storage encoding of the weight matrix W (N rows = output features,
    K columns = input features) of a linear layer. The matrix is cut into
    groups of `getGroupSize(K)` consecutive columns per row; every group has
    one scale (and, if the encoding has one, one offset).
  }];
  let methods = [
    InterfaceMethod<"Bits of one stored weight code in the packed layout.",
      "unsigned", "getCodeBits">,
    InterfaceMethod<[{Columns per scale group for rows of `cols` weights
      (`cols` itself for a per-row encoding).}],
      "int64_t", "getGroupSize", (ins "int64_t":$cols)>,
    InterfaceMethod<"Element type of the scales and offsets (null if none).",
      "::mlir::FloatType", "getScaleType">,
    InterfaceMethod<"Whether each group carries an offset as well as a scale.",
      "bool", "hasOffset">,
    InterfaceMethod<"Inclusive range [min, max] of the stored integer codes.",
      "std::pair<int64_t, int64_t>", "getCodeRange">,
    InterfaceMethod<"Number of scale groups per row of `cols` weights.",
      "int64_t", "getGroupsPerRow", (ins "int64_t":$cols), [{}], [{
        int64_t g = $_attr.getGroupSize(cols);
        return g <= 0 ? 0 : (cols + g - 1) / g;
      }]>,
    InterfaceMethod<[{Storage bits of a `rows` x `cols` matrix: codes, scales
      and offsets.}],
      "int64_t", "getStorageBits", (ins "int64_t":$rows, "int64_t":$cols),
      [{}], [{
        int64_t metaBits = 0;
        if (::mlir::FloatType t = $_attr.getScaleType())
          metaBits = t.getWidth() * ($_attr.hasOffset() ? 2 : 1);
        return rows * (cols * $_attr.getCodeBits() +
                       $_attr.getGroupsPerRow(cols) * metaBits);
      }]>,
    InterfaceMethod<[{Real bits per weight of a `rows` x `cols` matrix,
      scales and offsets counted.}],
      "double", "getBitsPerWeight", (ins "int64_t":$rows, "int64_t":$cols),
      [{}], [{
        if (rows <= 0 || cols <= 0)
          return 0.0;
        return double($_attr.getStorageBits(rows, cols)) /
               (double(rows) * double(cols));
      }]>,
  ];
}

//===----------------------------------------------------------------------===//
// Attribute definitions
//===----------------------------------------------------------------------===//

/// A `bool` parameter written as `true` / `false`.
class Ternary_BoolParameter<string desc> : AttrParameter<"bool", desc> {
  let parser = [{ [&]() -> ::mlir::FailureOr<bool> {
      if (succeeded($_parser.parseOptionalKeyword("true")))
        return true;
      if (succeeded($_parser.parseOptionalKeyword("false")))
        return false;
      $_parser.emitError($_parser.getCurrentLocation(),
                         "expected 'true' or 'false'");
      return ::mlir::failure();
    }() }];
  let printer = [{ $_printer << ($_self ? "true" : "false") }];
  let defaultValue = "false";
}

class Ternary_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Ternary_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Ternary_ParamAttr : Ternary_Attr<"Param", "param", [TypedAttrInterface]> {
  let summary = "Reference to a named entry of the parameter archive";
  let description = [{
    Names one tensor of the module's parameter archive (the file given by
    the module attribute `ternary.archive`). The archive's index gives the
    entry's dtype, shape, offset and checksum; the IR holds only the name,
    so a model of any size needs only a small IR file.

    ```mlir
    module attributes {ternary.archive = "stories260K.tpar"} {
      %w = ternary.weight #ternary.param<"layers.0.attention.wq"> : tensor<64x64xf32>
    }
    ```

    Like `dense<...>`, the attribute is typed: `: tensor<64x64xf32>` is the
    shape and element type the entry must have in the archive, checked when
    the archive is read.
    ```
  }];
  let parameters = (ins StringRefParameter<"entry name in the archive">:$key,
                        AttributeSelfTypeParameter<"">:$type);
  let assemblyFormat = "`<` $key `>`";
  let genVerifyDecl = 1;
}

def Ternary_TernaryEncodingAttr
    : Ternary_Attr<"TernaryEncoding", "ternary",
        [DeclareAttrInterfaceMethods<Ternary_WeightEncodingAttrInterface>]> {
  let summary = "Ternary codes {-1, 0, +1} with a scale and optional offset";
  let description = [{
    W[n, k] ≈ α[n, g]·T[n, k] + μ[n, g] with T in {-1, 0, +1} and g = k / block.
    `block = 0` means one group per row (per-row scale, as BitNet and ALS);
    a positive `block` gives one (α, μ) per `block` columns (PT²-LLM). Without
    `offset` the encoding is symmetric (μ = 0) and stores no offsets.

    Codes are stored with 2 bits each (code = T + 1), so the real bits per
    weight are `2 + (scale bits · (offset ? 2 : 1)) / group size`; for
    example block 128 with f16 scale and offset: 2 + 32 / 128 = 2.25.

    ```mlir
    #ternary.ternary<>                                       // per row, f32 α
    #ternary.ternary<block = 128, offset = true, scale = f16>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"int64_t", "0",
      "columns per scale group, 0 for one group per row">:$block,
    Ternary_BoolParameter<"whether each group has an offset μ">:$offset,
    DefaultValuedParameter<"::mlir::FloatType",
      "::mlir::Float32Type::get($_ctxt)", "scale element type">:$scale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Ternary_IntEncodingAttr
    : Ternary_Attr<"IntEncoding", "int",
        [DeclareAttrInterfaceMethods<Ternary_WeightEncodingAttrInterface>]> {
  let summary = "Symmetric signed integer codes (int8 or int4) with a scale";
  let description = [{
    W[n, k] ≈ s[n, g]·Q[n, k] with Q a signed `bits`-bit integer, in
    [-(2^(bits-1) - 1), 2^(bits-1) - 1], and g = k / group (`group = 0`: one
    scale per row). Used by mixed-precision selection for the matrices that
    are too sensitive for ternary codes.

    Real bits per weight: `bits + scale bits / group size`; int8 per row of
    64 columns with an f32 scale: 8 + 32 / 64 = 8.5.

    ```mlir
    #ternary.int<bits = 8>
    #ternary.int<bits = 4, group = 32, scale = f16>
    ```
  }];
  let parameters = (ins
    "unsigned":$bits,
    DefaultValuedParameter<"int64_t", "0",
      "columns per scale group, 0 for one group per row">:$group,
    DefaultValuedParameter<"::mlir::FloatType",
      "::mlir::Float32Type::get($_ctxt)", "scale element type">:$scale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Ternary_FloatEncodingAttr
    : Ternary_Attr<"FloatEncoding", "float",
        [DeclareAttrInterfaceMethods<Ternary_WeightEncodingAttrInterface>]> {
  let summary = "Weights kept in floating point, without scales";
  let description = [{
    The weights are stored as they are, in `type` (f32 by default). Real bits
    per weight: the width of `type`.

    ```mlir
    #ternary.float<>
    #ternary.float<type = f16>
    ```
  }];
  let parameters = (ins
    DefaultValuedParameter<"::mlir::FloatType",
      "::mlir::Float32Type::get($_ctxt)", "weight element type">:$type);
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // TERMINATOR_DIALECT_TERNARYATTRS_TD
