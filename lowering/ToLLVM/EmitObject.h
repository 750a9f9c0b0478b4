//===- EmitObject.h - LLVM IR to an object file for a target ---*- C++ -*-===//
//
// Part of TerMinator. The last step of every compile: optimize an LLVM
// module for a target description (triple, CPU, features) and write an
// object file. Used by terminator-compile and by the kernel generator of
// terminator-bench.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_TOLLVM_EMITOBJECT_H
#define TERMINATOR_LOWERING_TOLLVM_EMITOBJECT_H

#include "lowering/Target.h"

#include "mlir/Support/LLVM.h"
#include "llvm/IR/Module.h"

namespace mlir::terminator {

/// Sets `module`'s triple, data layout and per-function target attributes
/// from `target`, allows reassociation and contraction of floating-point
/// arithmetic, runs LLVM's -O2 pipeline and writes an object file to
/// `objectPath`. When `saveTemps` names a folder, the IR before and after
/// optimization goes there (model-unoptimized.ll, model.ll). The LLVM
/// targets must be initialized. Errors go to `errors`.
LogicalResult emitObjectFile(llvm::Module &module,
                             const TargetDescription &target,
                             StringRef objectPath, StringRef saveTemps,
                             llvm::raw_ostream &errors);

} // namespace mlir::terminator

#endif // TERMINATOR_LOWERING_TOLLVM_EMITOBJECT_H
