//===- Target.h - the target description of the lowering -------*- C++ -*-===//
//
// Part of TerMinator. The one place where the lowering learns what it
// compiles for: a triple, a CPU and LLVM feature flags, carried by the
// module attribute `ternary.target`, and the micro-kernel ISA they allow.
// Compiler code never looks at the ISA of the machine it runs on.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_TARGET_H
#define TERMINATOR_LOWERING_TARGET_H

#include "mlir/IR/BuiltinOps.h"

#include <memory>
#include <optional>
#include <string>

namespace mlir::terminator {

/// The instruction set of the ternary micro-kernels.
enum class KernelIsa {
  None,          ///< no kernels: the reference lowering (f32 loops)
  X86Avx2,       ///< vpmaddubsw + vpmaddwd on 32-byte vectors
  X86Avx512Vnni, ///< vpdpbusd on 64-byte vectors
  ArmNeonDot,    ///< sdot on 16-byte vectors
};

/// "none", "avx2", "avx512-vnni" or "neon-dotprod".
llvm::StringRef kernelIsaName(KernelIsa isa);
/// The ISA called `name` (as printed by kernelIsaName).
std::optional<KernelIsa> parseKernelIsa(llvm::StringRef name);
/// The CPU features (runtime names, comma-separated) a program with kernels
/// of `isa` needs, e.g. "avx512f,avx512bw,avx512vnni".
llvm::StringRef kernelIsaRuntimeFeatures(KernelIsa isa);

/// What the compiled code targets.
struct TargetDescription {
  std::string triple;
  std::string cpu;
  /// LLVM feature flags, e.g. "+avx2,+avx512vnni".
  std::string features;

  /// The best micro-kernel ISA the features allow.
  KernelIsa kernelIsa() const;
  /// Whether `features` enables `name` ("+name").
  bool hasFeature(llvm::StringRef name) const;

  /// Attaches the description as the module attribute `ternary.target`
  /// (TernaryDialect::getTargetAttrName()), a dictionary of strings.
  void attachTo(ModuleOp module) const;
  /// The description attached to `module`, if any.
  static std::optional<TargetDescription> fromModule(ModuleOp module);
};

} // namespace mlir::terminator

#endif // TERMINATOR_LOWERING_TARGET_H
