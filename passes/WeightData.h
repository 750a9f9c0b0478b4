//===- WeightData.h - weights and statistics for passes ---------*- C++ -*-===//
//
// Part of TerMinator. What the ternarization passes read: a linear layer's
// f32 weight (inline or from the parameter archive) and the calibration Gram
// matrix of its inputs (from a statistics archive, docs/calibration.md).
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_WEIGHTDATA_H
#define TERMINATOR_PASSES_WEIGHTDATA_H

#include "dialect/TernaryOps.h"
#include "passes/solvers/Ternary.h"
#include "terminator/runtime.h"

#include "llvm/ADT/SmallVector.h"

namespace mlir::ternary {

/// The f32 values of `linear`'s weight [N, K], row-major: inline, or the
/// archive entry of a `#ternary.param` in `archive` (opened from
/// `archivePath`, named in errors). Errors are emitted on `linear`.
FailureOr<SmallVector<float>>
readLinearWeight(LinearOp linear, trt_archive *archive, StringRef archivePath);

/// The Gram matrix `KEY.hessian` [cols, cols] of the statistics archive
/// `stats`, viewed in place; a null view when `stats` is null. Errors (a
/// missing entry, a wrong shape) are emitted on `op`.
FailureOr<::terminator::solvers::MatrixView>
readHessian(Operation *op, trt_archive *stats, StringRef key, int64_t cols);

} // namespace mlir::ternary

#endif // TERMINATOR_PASSES_WEIGHTDATA_H
