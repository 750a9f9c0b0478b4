//===- InterchangeLoops.cpp - contiguous innermost loops ------------------===//
//
// Part of TerMinator. See TerminatorInterchangeLoopsPass in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

#define DEBUG_TYPE "terminator-interchange-loops"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERMINATORINTERCHANGELOOPSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;

namespace {

/// Operands read or written contiguously by loop `d` minus those it strides
/// through.
int64_t contiguityScore(linalg::GenericOp op, unsigned d) {
  int64_t score = 0;
  for (AffineMap map : op.getIndexingMapsArray()) {
    ArrayRef<AffineExpr> results = map.getResults();
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].isFunctionOfDim(d))
        continue;
      bool last = i + 1 == results.size();
      score += last && isa<AffineDimExpr>(results[i]) ? 1 : -1;
    }
  }
  return score;
}

struct TerminatorInterchangeLoopsPass
    : mlir::terminator::impl::TerminatorInterchangeLoopsPassBase<
          TerminatorInterchangeLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation()->walk([&](linalg::GenericOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      unsigned loops = op.getNumLoops();
      if (loops < 2)
        continue;
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      unsigned inner = loops - 1, best = inner;
      int64_t bestScore = contiguityScore(op, inner);
      for (unsigned d = 0; d < inner; ++d) {
        if (ShapedType::isDynamic(ranges[d]) || ranges[d] < 8)
          continue;
        int64_t score = contiguityScore(op, d);
        if (score > bestScore) {
          best = d;
          bestScore = score;
        }
      }
      if (best == inner)
        continue;
      SmallVector<unsigned> order;
      for (unsigned d = 0; d < loops; ++d)
        if (d != best)
          order.push_back(d);
      order.push_back(best);
      rewriter.setInsertionPoint(op);
      if (failed(linalg::interchangeGenericOp(rewriter, op, order)))
        return signalPassFailure();
    }
  }
};

} // namespace
