//===- Passes.h - TerMinator lowering passes --------------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_PASSES_H
#define TERMINATOR_LOWERING_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::terminator {

#define GEN_PASS_DECL
#include "lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lowering/Passes.h.inc"

/// Patterns of the reference lowering of ternary ops to linalg.
void populateTernaryToLinalgPatterns(TypeConverter &converter,
                                     RewritePatternSet &patterns);

} // namespace mlir::terminator

#endif // TERMINATOR_LOWERING_PASSES_H
