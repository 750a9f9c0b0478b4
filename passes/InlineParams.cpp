//===- InlineParams.cpp - archive entries into inline blobs ---------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "terminator/runtime.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/ScopeExit.h"

#define DEBUG_TYPE "ternary-inline-params"

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYINLINEPARAMSPASS
#include "passes/Passes.h.inc"

namespace {
struct TernaryInlineParamsPass
    : impl::TernaryInlineParamsPassBase<TernaryInlineParamsPass> {
  using Base::Base;
  void runOnOperation() override;
};
} // namespace
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;

/// The archive dtype that stores elements of `type`.
static trt_dtype dtypeOf(Type type) {
  if (type.isF32())
    return TRT_DTYPE_F32;
  if (type.isF16())
    return TRT_DTYPE_F16;
  if (type.isBF16())
    return TRT_DTYPE_BF16;
  if (type.isSignlessInteger(8))
    return TRT_DTYPE_I8;
  if (type.isSignlessInteger(32))
    return TRT_DTYPE_I32;
  if (type.isSignlessInteger(64))
    return TRT_DTYPE_I64;
  return TRT_DTYPE_INVALID;
}

void TernaryInlineParamsPass::runOnOperation() {
  ModuleOp module = getOperation();
  std::string path = archive;
  if (path.empty())
    if (auto attr = module->getAttrOfType<StringAttr>(
            TernaryDialect::getArchiveAttrName()))
      path = attr.str();
  bool anyParam = false;
  module.walk([&](WeightOp op) { anyParam |= isa<ParamAttr>(op.getValue()); });
  if (!anyParam)
    return;
  if (path.empty()) {
    module.emitError("ternary-inline-params: the module refers to archive "
                     "entries but names no archive; set the ")
        << TernaryDialect::getArchiveAttrName()
        << " module attribute or the pass option archive=PATH";
    return signalPassFailure();
  }
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *handle = nullptr;
  if (trt_archive_open(path.c_str(), 0, &handle, err, sizeof(err)) != TRT_OK) {
    module.emitError("ternary-inline-params: ") << err;
    return signalPassFailure();
  }
  llvm::scope_exit closeArchive([&] { trt_archive_close(handle); });

  WalkResult result = module.walk([&](WeightOp op) {
    auto param = dyn_cast<ParamAttr>(op.getValue());
    if (!param)
      return WalkResult::advance();
    RankedTensorType type = op.getType();
    const trt_entry *entry = nullptr;
    if (trt_archive_find(handle, param.getKey().str().c_str(), &entry, err,
                         sizeof(err)) != TRT_OK) {
      op.emitOpError() << err;
      return WalkResult::interrupt();
    }
    bool shapeMatches = entry->rank == uint32_t(type.getRank());
    for (int64_t d = 0; shapeMatches && d < type.getRank(); ++d)
      shapeMatches = entry->dims[d] == uint64_t(type.getDimSize(d));
    if (entry->dtype != dtypeOf(type.getElementType()) || !shapeMatches) {
      std::string dims;
      for (uint32_t d = 0; d < entry->rank; ++d)
        dims += (d ? "x" : "") + std::to_string(entry->dims[d]);
      op.emitOpError("expects archive entry '")
          << param.getKey() << "' to be " << type << ", but " << path
          << " holds " << trt_dtype_name(entry->dtype) << " " << dims;
      return WalkResult::interrupt();
    }
    auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(static_cast<const char *>(entry->data),
                       size_t(entry->nbytes)),
        alignof(uint64_t));
    auto value =
        DenseResourceElementsAttr::get(type, param.getKey(), std::move(blob));
    op.setValueAttr(cast<TypedAttr>(value));
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return signalPassFailure();
  module->removeAttr(TernaryDialect::getArchiveAttrName());
}
