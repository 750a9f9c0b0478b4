//===- KvCacheInPlace.cpp - decode steps write into the KV cache ----------===//
//
// Part of TerMinator. A decode step's `present = concat(past, new)` becomes
// an in-place write of the new slot into the caller's cache; see the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERMINATORKVCACHEINPLACEPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;

namespace {

/// A returned concat of a cache argument and one new slot.
struct CacheConcat {
  unsigned result;
  tensor::ConcatOp concat;
  BlockArgument past;
};

/// The concat behind result `i` of `ret`, if it has the cache form.
std::optional<CacheConcat> matchCacheConcat(func::FuncOp func,
                                            func::ReturnOp ret, unsigned i) {
  auto concat = ret.getOperand(i).getDefiningOp<tensor::ConcatOp>();
  if (!concat || concat.getInputs().size() != 2)
    return std::nullopt;
  auto past = dyn_cast<BlockArgument>(concat.getInputs()[0]);
  if (!past || past.getOwner() != &func.getBody().front() || !past.hasOneUse())
    return std::nullopt;
  auto pastType = cast<RankedTensorType>(past.getType());
  auto newType = cast<RankedTensorType>(concat.getInputs()[1].getType());
  int64_t dim = int64_t(concat.getDim());
  if (!pastType.hasStaticShape() || !newType.hasStaticShape() ||
      pastType.getDimSize(dim) == 0 || newType.getDimSize(dim) != 1)
    return std::nullopt;
  // The result is returned once and used by nothing else that could see
  // the cache before the new slot is written (every use reads the concat).
  if (llvm::count(ret.getOperands(), concat.getResult()) != 1)
    return std::nullopt;
  return CacheConcat{i, concat, past};
}

struct TerminatorKvCacheInPlacePass
    : mlir::terminator::impl::TerminatorKvCacheInPlacePassBase<
          TerminatorKvCacheInPlacePass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
      SmallVector<CacheConcat> found;
      for (unsigned i = 0; i < ret.getNumOperands(); ++i)
        if (auto c = matchCacheConcat(func, ret, i))
          found.push_back(*c);
      if (found.empty())
        continue;
      rewrite(func, ret, found);
    }
  }

  void rewrite(func::FuncOp func, func::ReturnOp ret,
               ArrayRef<CacheConcat> found) {
    MLIRContext *ctx = &getContext();
    Block &entry = func.getBody().front();
    auto slotType = RankedTensorType::get({1}, IntegerType::get(ctx, 64));
    unsigned slotIndex = func.getNumArguments();
    NamedAttribute marker(StringAttr::get(ctx, "terminator.cache_slot"),
                          UnitAttr::get(ctx));
    if (failed(func.insertArgument(slotIndex, slotType,
                                   DictionaryAttr::get(ctx, {marker}),
                                   func.getLoc())))
      return signalPassFailure();
    OpBuilder b(ctx);
    b.setInsertionPointToStart(&entry);
    Location loc = func.getLoc();
    Value zero = arith::ConstantIndexOp::create(b, loc, 0);
    Value raw = tensor::ExtractOp::create(b, loc, entry.getArgument(slotIndex),
                                          ValueRange{zero});
    Value slot =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), raw).getResult();

    llvm::BitVector dropped(ret.getNumOperands());
    SmallVector<int64_t> droppedIndices;
    for (CacheConcat c : found) {
      auto type = cast<RankedTensorType>(c.concat.getType());
      c.past.setType(type);
      b.setInsertionPoint(c.concat);
      int64_t rank = type.getRank();
      SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
      offsets[c.concat.getDim()] = slot;
      auto newType = cast<RankedTensorType>(c.concat.getInputs()[1].getType());
      SmallVector<OpFoldResult> sizes;
      for (int64_t d : newType.getShape())
        sizes.push_back(b.getIndexAttr(d));
      SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
      Value present = tensor::InsertSliceOp::create(
          b, c.concat.getLoc(), c.concat.getInputs()[1], c.past, offsets, sizes,
          strides);
      c.concat.getResult().replaceAllUsesWith(present);
      c.concat.erase();
      dropped.set(c.result);
      droppedIndices.push_back(int64_t(c.result));
    }
    // The present values are no longer results: their buffer is the
    // caller's cache.
    ret->eraseOperands(dropped);
    if (failed(func.eraseResults(dropped)))
      return signalPassFailure();
    func.setType(FunctionType::get(ctx, entry.getArgumentTypes(),
                                   func.getResultTypes()));
    func->setAttr("terminator.in_place_cache",
                  DenseI64ArrayAttr::get(ctx, droppedIndices));
  }
};

} // namespace
