//===- WeightData.cpp - weights and calibration statistics for passes -----===//
//
// Part of TerMinator. See WeightData.h.
//
//===----------------------------------------------------------------------===//

#include "passes/WeightData.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::ternary;
namespace solvers = ::terminator::solvers;

FailureOr<SmallVector<float>>
mlir::ternary::readLinearWeight(LinearOp linear, trt_archive *input,
                                StringRef inputPath) {
  auto weight = linear.getWeight().getDefiningOp<WeightOp>();
  if (!weight)
    return linear.emitOpError("cannot be ternarized: its weight is not "
                              "produced by ternary.weight");
  if (!weight.getType().getElementType().isF32())
    return linear.emitOpError("cannot be ternarized: expects an f32 weight, "
                              "but got ")
           << weight.getType().getElementType();
  Attribute value = weight.getValue();
  if (auto param = dyn_cast<ParamAttr>(value)) {
    char err[TRT_ERROR_MESSAGE_SIZE];
    const trt_entry *entry = nullptr;
    if (trt_archive_find(input, param.getKey().str().c_str(), &entry, err,
                         sizeof(err)) != TRT_OK)
      return linear.emitOpError("cannot be ternarized: ") << err;
    RankedTensorType type = weight.getType();
    if (entry->dtype != TRT_DTYPE_F32 || entry->rank != 2 ||
        entry->dims[0] != uint64_t(type.getDimSize(0)) ||
        entry->dims[1] != uint64_t(type.getDimSize(1)))
      return linear.emitOpError("cannot be ternarized: archive entry '")
             << param.getKey() << "' in " << inputPath << " is "
             << trt_dtype_name(entry->dtype) << " of rank " << entry->rank
             << ", but the IR expects " << type;
    const float *data = static_cast<const float *>(entry->data);
    return SmallVector<float>(data, data + type.getNumElements());
  }
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

FailureOr<solvers::MatrixView> mlir::ternary::readHessian(Operation *linear,
                                                          trt_archive *stats,
                                                          StringRef key,
                                                          int64_t cols) {
  if (!stats)
    return solvers::MatrixView{};
  char err[TRT_ERROR_MESSAGE_SIZE];
  const trt_entry *entry = nullptr;
  std::string name = (key + ".hessian").str();
  if (trt_archive_find(stats, name.c_str(), &entry, err, sizeof(err)) != TRT_OK)
    return linear->emitOpError("has no calibration statistics: ")
           << err << " (were they made for this model?)";
  if (entry->dtype != TRT_DTYPE_F32 || entry->rank != 2 ||
      entry->dims[0] != uint64_t(cols) || entry->dims[1] != uint64_t(cols))
    return linear->emitOpError("calibration entry '")
           << name << "' is not f32 [" << cols << ", " << cols
           << "]; the statistics were made for another model";
  return solvers::MatrixView{static_cast<const float *>(entry->data), cols,
                             cols};
}
