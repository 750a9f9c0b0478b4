//===- FuseElementwise.cpp - fuse data movement into its consumers --------===//
//
// Part of TerMinator. See TerminatorFuseElementwisePass in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERMINATORFUSEELEMENTWISEPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;

namespace {

/// A static `tensor.reshape` that only splits or merges neighbouring
/// dimensions becomes `tensor.expand_shape` / `tensor.collapse_shape`, which
/// the reshape propagation patterns understand.
struct StaticReshapeToExpandCollapse : OpRewritePattern<tensor::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto source = cast<RankedTensorType>(op.getSource().getType());
    auto result = cast<RankedTensorType>(op.getResult().getType());
    if (!source.hasStaticShape() || !result.hasStaticShape() ||
        source.getRank() == result.getRank())
      return failure();
    auto reassociation = getReassociationIndicesForReshape(source, result);
    if (!reassociation)
      return failure();
    if (source.getRank() > result.getRank())
      rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
          op, result, op.getSource(), *reassociation);
    else
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
          op, result, op.getSource(), *reassociation);
    return success();
  }
};

/// linalg.transpose and linalg.broadcast as linalg.generic, so that they
/// fuse like any other elementwise op.
template <typename NamedOp>
struct GeneralizeDataMovement : OpRewritePattern<NamedOp> {
  using OpRewritePattern<NamedOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(NamedOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

/// Static iterations of a linalg op (0 if unknown).
int64_t iterations(linalg::LinalgOp op) {
  int64_t n = 1;
  for (int64_t r : op.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(r))
      return 0;
    n *= r;
  }
  return n;
}

/// Whether a generic only moves data: its body yields block arguments.
bool movesDataOnly(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 1)
    return false;
  return llvm::all_of(body.getTerminator()->getOperands(),
                      [](Value v) { return isa<BlockArgument>(v); });
}

/// Fuse a producer that has no other use when the fused op computes no
/// more than before: the producer only moves data (a copy, a broadcast, a
/// transpose), or the consumer runs no more iterations than it did.
bool shouldFuse(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
  if (!producer || !consumer || !producer->hasOneUse())
    return false;
  if (movesDataOnly(producer))
    return true;
  int64_t before = iterations(producer), after = iterations(consumer);
  return before > 0 && after > 0 && after <= before;
}

/// Reshapes move across a generic when it is cheap in the same sense.
bool shouldFoldReshape(OpOperand *operand) {
  Operation *producer = operand->get().getDefiningOp();
  return producer && producer->hasOneUse();
}

struct TerminatorFuseElementwisePass
    : mlir::terminator::impl::TerminatorFuseElementwisePassBase<
          TerminatorFuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<StaticReshapeToExpandCollapse,
                 GeneralizeDataMovement<linalg::TransposeOp>,
                 GeneralizeDataMovement<linalg::BroadcastOp>>(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                      shouldFoldReshape);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
