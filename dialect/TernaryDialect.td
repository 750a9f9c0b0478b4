//===- TernaryDialect.td - the ternary dialect -------------*- tablegen -*-===//
//
// Part of TerMinator. The dialect that carries linear layers from import
// (full precision, weights by reference) through ternarization (encodings,
// activation permutation, sparse outlier residual) to the lowering.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_DIALECT_TERNARYDIALECT_TD
#define TERMINATOR_DIALECT_TERNARYDIALECT_TD

include "mlir/IR/OpBase.td"

def Ternary_Dialect : Dialect {
  let name = "ternary";
  let cppNamespace = "::mlir::ternary";
  let summary = "Linear layers with ternary and low-bit weight encodings";
  let description = [{
    The `ternary` dialect models the linear layers of a language model from
    the moment they are imported (a full-precision `ternary.linear` whose
    weights live in a parameter archive) until they are lowered to per-ISA
    micro-kernels (a `ternary.qlinear` that carries its weight encoding).

    Weights are kept out of the IR text: `ternary.weight` names an entry of
    the module's parameter archive with `#ternary.param<"name">`, or holds a
    small inline `dense_resource` / `dense` value for tests.

    Every weight encoding attribute states its real bits per weight, scales
    and offsets counted, through `WeightEncodingAttrInterface`.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes (in TernaryAttrs.cpp, beside their storage).
    void registerAttributes();

    /// Name of the module attribute holding the parameter archive path.
    static constexpr ::llvm::StringLiteral getArchiveAttrName() {
      return ::llvm::StringLiteral("ternary.archive");
    }

    /// Name of the function attribute listing the archive entries passed
    /// as its trailing arguments (`ternary-params-to-arguments`).
    static constexpr ::llvm::StringLiteral getParamsAttrName() {
      return ::llvm::StringLiteral("ternary.params");
    }

    /// Name of the attribute `ternary-select-precision` puts on a
    /// `ternary.linear`: "int8" or "ternary".
    static constexpr ::llvm::StringLiteral getPrecisionAttrName() {
      return ::llvm::StringLiteral("ternary.precision");
    }

    /// Name of the attribute `ternary-ssr-reorder` puts on a
    /// `ternary.linear` whose weight columns it permuted: the permutation
    /// (column i holds original column perm[i]). Passes that read the
    /// layer's calibration statistics, which stay in the original column
    /// order, permute them through it.
    static constexpr ::llvm::StringLiteral getInputPermutationAttrName() {
      return ::llvm::StringLiteral("ternary.input_permutation");
    }

    /// Name of the module attribute listing archive entries that no op
    /// reads but that describe the weights for tools (the SSR permutations
    /// `KEY.input_permutation`); passes that rewrite the archive keep them.
    static constexpr ::llvm::StringLiteral getRecordsAttrName() {
      return ::llvm::StringLiteral("ternary.records");
    }

    /// Name of the module attribute describing the compilation target:
    /// {triple, cpu, features} strings (lowering/Target.h).
    static constexpr ::llvm::StringLiteral getTargetAttrName() {
      return ::llvm::StringLiteral("ternary.target");
    }
  }];
  let hasOperationAttrVerify = 1;
}

class Ternary_Op<string mnemonic, list<Trait> traits = []>
    : Op<Ternary_Dialect, mnemonic, traits>;

#endif // TERMINATOR_DIALECT_TERNARYDIALECT_TD
