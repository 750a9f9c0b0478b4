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

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::ternary {

/// The archive entry that `weight`, a `ternary.weight` of a
/// `#ternary.param`, names; "" for an inline weight or another producer.
StringRef weightKey(Value weight);

/// The `ternary.linear`s of `module` that a pass rewriting ternary layers
/// works on: those whose weight is named in `only` (archive entry names;
/// every layer when empty) and not in `excluded`, and that no
/// `ternary.precision` mark keeps above ternary (int4, int8 or f32: mixed
/// precision, terminator-compile's head).
SmallVector<LinearOp> selectTernaryLinears(ModuleOp module,
                                           ArrayRef<std::string> only,
                                           ArrayRef<std::string> excluded);

/// The f32 values of `linear`'s weight [N, K], row-major: inline, or the
/// archive entry of a `#ternary.param` in `archive` (opened from
/// `archivePath`, named in errors). Errors are emitted on `linear`.
FailureOr<SmallVector<float>>
readLinearWeight(LinearOp linear, trt_archive *archive, StringRef archivePath);

/// The Gram matrix `KEY.hessian` [cols, cols] of the statistics archive
/// `stats`, viewed in place; a null view when `stats` is null. Statistics
/// are in the model's original column order: when `op` carries
/// `ternary.input_permutation` (SSR), the view is of a permuted copy held in
/// `storage`. Errors (a missing entry, a wrong shape) are emitted on `op`.
FailureOr<::terminator::solvers::MatrixView>
readHessian(Operation *op, trt_archive *stats, StringRef key, int64_t cols,
            std::vector<float> &storage);

/// The cross matrix `KEY.cross` [cols, cols] = X̃ᵀX / rows of asymmetric
/// calibration (docs/calibration.md), like readHessian() but optional: a
/// null view when `stats` is null or has no such entry.
FailureOr<::terminator::solvers::MatrixView>
readCross(Operation *op, trt_archive *stats, StringRef key, int64_t cols,
          std::vector<float> &storage);

/// The bytes of `weight`'s value: the archive entry of a `#ternary.param`
/// in `archive` (opened from `archivePath`; its dtype must be `dtype`), or
/// the inline elements (copied into `storage`). Errors are emitted on `op`.
FailureOr<ArrayRef<char>> readWeightBytes(Operation *op, WeightOp weight,
                                          trt_archive *archive,
                                          StringRef archivePath,
                                          trt_dtype dtype,
                                          SmallVectorImpl<char> &storage);

/// A new `ternary.weight` of `type` holding `bytes`: the entry `key` added
/// to `writer`, or inline (`dense_resource`) when `writer` is null. Returns
/// null after emitting an error (naming `pass` and `archivePath`) when the
/// entry cannot be written.
Value makeWeightValue(OpBuilder &b, Location loc, RankedTensorType type,
                      StringRef key, ArrayRef<char> bytes, trt_dtype dtype,
                      trt_writer *writer, StringRef archivePath,
                      StringRef pass);

/// Opens the calibration statistics at `path` into `stats` (left null when
/// `path` is empty); errors name `pass` and are emitted on `module`.
LogicalResult openStatistics(ModuleOp module, StringRef path, StringRef pass,
                             trt_archive *&stats);

/// Rounds `values` to the nearest f16 (ties to even) in place and returns
/// their f16 bit patterns: scales and offsets stored as f16.
std::vector<uint16_t> roundToF16(MutableArrayRef<float> values);

/// f16 bit patterns widened to f32.
std::vector<float> widenF16(ArrayRef<uint16_t> bits);

/// Opens the module's archive (`ternary.archive`) into `input` and creates
/// `writer` for `outputPath`, for a pass (`pass`, named in errors) that
/// rewrites archive weights; `what` names what it writes ("ternarized
/// weights"). Errors are emitted on `module`; `inputPath` gets the path.
LogicalResult openArchives(ModuleOp module, StringRef outputPath,
                           StringRef pass, StringRef what, trt_archive *&input,
                           trt_writer *&writer, std::string &inputPath);

/// Copies every entry of `input` that `module` still refers to (as a
/// weight, or in its `ternary.records`) and that `writer` lacks, finishes
/// `writer` and points the module's `ternary.archive` at `outputPath`. Entries
/// of `input` that the pass wrote anew under the same name are listed in
/// `rewritten`.
LogicalResult finishArchive(ModuleOp module, trt_archive *input,
                            trt_writer *writer, StringRef outputPath,
                            StringRef pass,
                            const llvm::StringSet<> *rewritten = nullptr);

} // namespace mlir::ternary

#endif // TERMINATOR_PASSES_WEIGHTDATA_H
