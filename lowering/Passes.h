//===- Passes.h - TerMinator lowering passes --------------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_PASSES_H
#define TERMINATOR_LOWERING_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

/// The reassociation that views a rank-`rank` shape [..., K] as [rows, K]
/// (tokens by features), for collapse_shape / expand_shape.
SmallVector<ReassociationIndices> leadingAndLastDims(int64_t rank);

/// y[..., n] + bias[n] for y of type `resultType` (the reference lowering's
/// bias addition, shared with the kernel lowering).
Value buildBiasAdd(OpBuilder &b, Location loc, Value y, Value bias,
                   RankedTensorType resultType);

} // namespace mlir::terminator

#endif // TERMINATOR_LOWERING_PASSES_H
