//===- Ternarize.cpp - replace linear layers by ternary ones --------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/solvers/Ternary.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#define DEBUG_TYPE "ternary-ternarize"

namespace solvers = ::terminator::solvers;

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYTERNARIZEPASS
#include "passes/Passes.h.inc"

namespace {
struct TernaryTernarizePass
    : impl::TernaryTernarizePassBase<TernaryTernarizePass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult ternarize(LinearOp linear, solvers::Granularity granularity);
};
} // namespace
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;

/// The f32 values of an inline weight, or failure with a diagnostic.
static FailureOr<SmallVector<float>> readInlineWeight(LinearOp linear) {
  auto weight = linear.getWeight().getDefiningOp<WeightOp>();
  if (!weight)
    return linear.emitOpError("cannot be ternarized: its weight is not "
                              "produced by ternary.weight");
  if (auto param = dyn_cast<ParamAttr>(weight.getValue()))
    return linear.emitOpError("cannot be ternarized: weight '")
           << param.getKey()
           << "' is in the parameter archive, and reading the archive from "
              "passes is not supported yet; use an inline dense or "
              "dense_resource weight";
  if (!weight.getType().getElementType().isF32())
    return linear.emitOpError("cannot be ternarized: expects an f32 weight, "
                              "but got ")
           << weight.getType().getElementType();
  Attribute value = weight.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    auto values = dense.getValues<float>();
    return SmallVector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(value)) {
    std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef();
    if (!values)
      return linear.emitOpError("cannot be ternarized: the dense_resource "
                                "blob of its weight is missing");
    return SmallVector<float>(values->begin(), values->end());
  }
  return linear.emitOpError("cannot be ternarized: unsupported weight "
                            "attribute ")
         << value;
}

LogicalResult
TernaryTernarizePass::ternarize(LinearOp linear,
                                solvers::Granularity granularity) {
  FailureOr<SmallVector<float>> values = readInlineWeight(linear);
  if (failed(values))
    return failure();
  RankedTensorType weightType = linear.getWeight().getType();
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  solvers::TernaryMatrix q =
      solvers::absmean({values->data(), n, k}, granularity);

  OpBuilder b(linear);
  Location loc = linear.getLoc();
  auto codesType = RankedTensorType::get({n, k}, b.getI8Type());
  auto scalesType = RankedTensorType::get({n, 1}, b.getF32Type());
  auto codesAttr = DenseI8ResourceElementsAttr::get(
      codesType, "ternary_codes",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(q.codes)));
  auto scalesAttr = DenseF32ResourceElementsAttr::get(
      scalesType, "ternary_scales",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(q.scales)));
  Value codes = WeightOp::create(b, loc, cast<TypedAttr>(codesAttr));
  Value scales = WeightOp::create(b, loc, cast<TypedAttr>(scalesAttr));
  auto encoding = TernaryEncodingAttr::get(b.getContext(), /*block=*/0,
                                           /*offset=*/false, b.getF32Type());
  auto qlinear = QLinearOp::create(
      b, loc, linear.getType(), linear.getInput(), codes, scales,
      /*offsets=*/Value(), linear.getBias(), encoding);
  linear.replaceAllUsesWith(qlinear.getResult());
  linear.erase();
  return success();
}

void TernaryTernarizePass::runOnOperation() {
  if (method != "absmean") {
    getOperation().emitError("ternary-ternarize: unknown method '")
        << method << "'; expected absmean";
    return signalPassFailure();
  }
  solvers::Granularity granularity;
  if (granularityName == "tensor")
    granularity = solvers::Granularity::Tensor;
  else if (granularityName == "row")
    granularity = solvers::Granularity::Row;
  else {
    getOperation().emitError("ternary-ternarize: unknown granularity '")
        << granularityName << "'; expected tensor or row";
    return signalPassFailure();
  }

  SmallVector<LinearOp> linears;
  getOperation().walk([&](LinearOp op) { linears.push_back(op); });
  bool failedAny = false;
  for (LinearOp linear : linears)
    failedAny |= failed(ternarize(linear, granularity));
  if (failedAny)
    signalPassFailure();
}
