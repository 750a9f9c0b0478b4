//===- ApproximateMath.cpp - vectorizable exp -----------------------------===//
//
// Part of TerMinator. See TerminatorApproximateMathPass in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERMINATORAPPROXIMATEMATHPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;

namespace {
struct TerminatorApproximateMathPass
    : mlir::terminator::impl::TerminatorApproximateMathPassBase<
          TerminatorApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName();
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
