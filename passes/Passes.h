//===- Passes.h - ternary dialect passes and pipelines ----------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_PASSES_H
#define TERMINATOR_PASSES_PASSES_H

#include "dialect/TernaryDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ternary {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::ternary

namespace mlir::terminator {

/// Registers the named pipelines (`terminator-ternarize`, ...), so that
/// `terminator-opt --help` lists them.
void registerPipelines();

/// Adds the passes of `terminator-aot-to-llvm` (an imported model to the
/// LLVM dialect for an AOT program) to `pm`.
void buildAotToLLVMPipeline(OpPassManager &pm);

} // namespace mlir::terminator

#endif // TERMINATOR_PASSES_PASSES_H
