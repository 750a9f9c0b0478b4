//===- WeightData.cpp - weights and calibration statistics for passes -----===//
//
// Part of TerMinator. See WeightData.h.
//
//===----------------------------------------------------------------------===//

#include "passes/WeightData.h"
#include "passes/solvers/Reorder.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::ternary;
namespace solvers = ::terminator::solvers;

LogicalResult mlir::ternary::openStatistics(ModuleOp module, StringRef path,
                                            StringRef pass,
                                            trt_archive *&stats) {
  if (path.empty())
    return success();
  char err[TRT_ERROR_MESSAGE_SIZE];
  // Each entry is verified when first read (verifiedData), so that a big
  // archive is never resident as a whole.
  if (trt_archive_open(path.str().c_str(), TRT_ARCHIVE_NO_VERIFY, &stats, err,
                       sizeof(err)) != TRT_OK)
    return module.emitError() << pass << ": calibration statistics: " << err;
  return success();
}

std::vector<uint16_t> mlir::ternary::roundToF16(MutableArrayRef<float> values) {
  std::vector<uint16_t> bits;
  bits.reserve(values.size());
  for (float &v : values) {
    llvm::APFloat f(v);
    bool lost = false;
    f.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    bits.push_back(uint16_t(f.bitcastToAPInt().getZExtValue()));
    f.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    v = f.convertToFloat();
  }
  return bits;
}

std::vector<float> mlir::ternary::widenF16(ArrayRef<uint16_t> bits) {
  std::vector<float> out;
  out.reserve(bits.size());
  for (uint16_t h : bits) {
    llvm::APFloat f(llvm::APFloat::IEEEhalf(), llvm::APInt(16, h));
    bool lost = false;
    f.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
              &lost);
    out.push_back(f.convertToFloat());
  }
  return out;
}

StringRef mlir::ternary::weightKey(Value weight) {
  auto op = weight.getDefiningOp<WeightOp>();
  auto param = op ? dyn_cast<ParamAttr>(op.getValue()) : nullptr;
  return param ? param.getKey() : StringRef();
}

SmallVector<LinearOp>
mlir::ternary::selectTernaryLinears(ModuleOp module, ArrayRef<std::string> only,
                                    ArrayRef<std::string> excluded) {
  llvm::StringSet<> onlySet, excludedSet;
  for (const std::string &name : only)
    onlySet.insert(name);
  for (const std::string &name : excluded)
    excludedSet.insert(name);
  SmallVector<LinearOp> linears;
  module.walk([&](LinearOp op) {
    StringRef key = weightKey(op.getWeight());
    if ((!onlySet.empty() && !onlySet.contains(key)) ||
        excludedSet.contains(key))
      return;
    if (auto p = op->getAttrOfType<StringAttr>(
            TernaryDialect::getPrecisionAttrName());
        p && p.getValue() != "ternary")
      return;
    linears.push_back(op);
  });
  return linears;
}

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
    if (trt_archive_verify_entry(input, entry, err, sizeof(err)) != TRT_OK)
      return linear.emitOpError("cannot be ternarized: ") << err;
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

namespace {
/// KEY + suffix, a f32 [cols, cols] statistics entry, viewed in place or
/// permuted into `storage` (see readHessian); a null view when `optional`
/// and absent.
FailureOr<solvers::MatrixView>
readSquareStatistic(Operation *linear, trt_archive *stats, StringRef key,
                    StringRef suffix, int64_t cols, std::vector<float> &storage,
                    bool optional) {
  if (!stats)
    return solvers::MatrixView{};
  char err[TRT_ERROR_MESSAGE_SIZE];
  const trt_entry *entry = nullptr;
  std::string name = (key + suffix).str();
  if (trt_archive_find(stats, name.c_str(), &entry, err, sizeof(err)) !=
      TRT_OK) {
    if (optional)
      return solvers::MatrixView{};
    return linear->emitOpError("has no calibration statistics: ")
           << err << " (were they made for this model?)";
  }
  if (entry->dtype != TRT_DTYPE_F32 || entry->rank != 2 ||
      entry->dims[0] != uint64_t(cols) || entry->dims[1] != uint64_t(cols))
    return linear->emitOpError("calibration entry '")
           << name << "' is not f32 [" << cols << ", " << cols
           << "]; the statistics were made for another model";
  if (trt_archive_verify_entry(stats, entry, err, sizeof(err)) != TRT_OK)
    return linear->emitOpError("calibration statistics: ") << err;
  solvers::MatrixView h{static_cast<const float *>(entry->data), cols, cols};
  auto perm = linear->getAttrOfType<DenseI64ArrayAttr>(
      TernaryDialect::getInputPermutationAttrName());
  if (!perm)
    return h;
  storage =
      solvers::permuteGram(h, std::vector<int64_t>(perm.asArrayRef().begin(),
                                                   perm.asArrayRef().end()));
  return solvers::MatrixView{storage.data(), cols, cols};
}
} // namespace

FailureOr<solvers::MatrixView>
mlir::ternary::readHessian(Operation *linear, trt_archive *stats, StringRef key,
                           int64_t cols, std::vector<float> &storage) {
  return readSquareStatistic(linear, stats, key, ".hessian", cols, storage,
                             /*optional=*/false);
}

FailureOr<solvers::MatrixView>
mlir::ternary::readCross(Operation *linear, trt_archive *stats, StringRef key,
                         int64_t cols, std::vector<float> &storage) {
  return readSquareStatistic(linear, stats, key, ".cross", cols, storage,
                             /*optional=*/true);
}

FailureOr<ArrayRef<char>> mlir::ternary::readWeightBytes(
    Operation *op, WeightOp weight, trt_archive *archive, StringRef archivePath,
    trt_dtype dtype, SmallVectorImpl<char> &storage) {
  RankedTensorType type = weight.getType();
  Attribute value = weight.getValue();
  if (auto param = dyn_cast<ParamAttr>(value)) {
    char err[TRT_ERROR_MESSAGE_SIZE];
    const trt_entry *entry = nullptr;
    if (!archive)
      return op->emitOpError("refers to archive entry '")
             << param.getKey() << "', but no archive is open";
    if (trt_archive_find(archive, param.getKey().str().c_str(), &entry, err,
                         sizeof(err)) != TRT_OK)
      return op->emitOpError() << err;
    uint64_t elements = 1;
    for (uint32_t d = 0; d < entry->rank; ++d)
      elements *= entry->dims[d];
    if (entry->dtype != dtype || elements != uint64_t(type.getNumElements()))
      return op->emitOpError("archive entry '")
             << param.getKey() << "' in " << archivePath << " is "
             << trt_dtype_name(entry->dtype) << " with " << elements
             << " elements, but the IR expects " << type;
    if (trt_archive_verify_entry(archive, entry, err, sizeof(err)) != TRT_OK)
      return op->emitOpError() << err;
    return ArrayRef<char>(static_cast<const char *>(entry->data),
                          size_t(entry->nbytes));
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return op->emitOpError("the dense_resource blob of a weight is missing");
    ArrayRef<char> data = blob->getData();
    storage.assign(data.begin(), data.end());
    return ArrayRef<char>(storage.data(), storage.size());
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    int64_t width = (dense.getElementType().getIntOrFloatBitWidth() + 7) / 8;
    storage.resize(size_t(type.getNumElements() * width));
    if (dense.isSplat()) {
      ArrayRef<char> one = dense.getRawData();
      for (int64_t i = 0; i < type.getNumElements(); ++i)
        std::copy(one.begin(), one.begin() + width,
                  storage.begin() + i * width);
    } else {
      ArrayRef<char> raw = dense.getRawData();
      storage.assign(raw.begin(), raw.end());
    }
    return ArrayRef<char>(storage.data(), storage.size());
  }
  return op->emitOpError("unsupported weight attribute ") << value;
}

Value mlir::ternary::makeWeightValue(OpBuilder &b, Location loc,
                                     RankedTensorType type, StringRef key,
                                     ArrayRef<char> bytes, trt_dtype dtype,
                                     trt_writer *writer, StringRef archivePath,
                                     StringRef pass) {
  if (!writer) {
    auto blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(float));
    auto attr = DenseResourceElementsAttr::get(type, key, std::move(blob));
    return WeightOp::create(b, loc, cast<TypedAttr>(attr));
  }
  char err[TRT_ERROR_MESSAGE_SIZE];
  SmallVector<uint64_t> dims(type.getShape().begin(), type.getShape().end());
  if (trt_writer_add(writer, key.str().c_str(), dtype, uint32_t(dims.size()),
                     dims.data(), bytes.data(), bytes.size(), err,
                     sizeof(err)) != TRT_OK) {
    emitError(loc) << pass << ": cannot write " << archivePath << ": " << err;
    return Value();
  }
  return WeightOp::create(
      b, loc, cast<TypedAttr>(ParamAttr::get(b.getContext(), key, type)));
}

LogicalResult mlir::ternary::finishArchive(ModuleOp module, trt_archive *input,
                                           trt_writer *writer,
                                           StringRef outputPath, StringRef pass,
                                           const llvm::StringSet<> *rewritten) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  llvm::StringSet<> written;
  if (rewritten)
    for (const auto &key : *rewritten)
      written.insert(key.getKey());
  if (auto records = module->getAttrOfType<ArrayAttr>(
          TernaryDialect::getRecordsAttrName()))
    for (auto name : records.getAsValueRange<StringAttr>()) {
      const trt_entry *entry = nullptr;
      if (!written.insert(name).second ||
          trt_archive_find(input, name.str().c_str(), &entry, err,
                           sizeof(err)) == TRT_ERR_NOT_FOUND)
        continue; // written by the pass
      if (!entry ||
          trt_archive_verify_entry(input, entry, err, sizeof(err)) != TRT_OK ||
          trt_writer_add(writer, entry->name, entry->dtype, entry->rank,
                         entry->dims, entry->data, entry->nbytes, err,
                         sizeof(err)) != TRT_OK)
        return module.emitError()
               << pass << ": cannot copy archive entry: " << err;
      trt_archive_release_entry(input, entry);
    }
  WalkResult copied = module.walk([&](WeightOp op) {
    auto param = dyn_cast<ParamAttr>(op.getValue());
    if (!param || !written.insert(param.getKey()).second)
      return WalkResult::advance();
    const trt_entry *entry = nullptr;
    if (trt_archive_find(input, param.getKey().str().c_str(), &entry, err,
                         sizeof(err)) == TRT_ERR_NOT_FOUND)
      return WalkResult::advance(); // written by the pass
    if (!entry ||
        trt_archive_verify_entry(input, entry, err, sizeof(err)) != TRT_OK ||
        trt_writer_add(writer, entry->name, entry->dtype, entry->rank,
                       entry->dims, entry->data, entry->nbytes, err,
                       sizeof(err)) != TRT_OK) {
      op.emitOpError("cannot copy archive entry: ") << err;
      return WalkResult::interrupt();
    }
    trt_archive_release_entry(input, entry); // streaming, see Ternarize
    return WalkResult::advance();
  });
  if (copied.wasInterrupted())
    return failure();
  if (trt_writer_finish(writer, err, sizeof(err)) != TRT_OK)
    return module.emitError() << pass << ": " << err;
  module->setAttr(TernaryDialect::getArchiveAttrName(),
                  StringAttr::get(module.getContext(), outputPath));
  return success();
}

LogicalResult mlir::ternary::openArchives(ModuleOp module, StringRef outputPath,
                                          StringRef pass, StringRef what,
                                          trt_archive *&input,
                                          trt_writer *&writer,
                                          std::string &inputPath) {
  auto attr =
      module->getAttrOfType<StringAttr>(TernaryDialect::getArchiveAttrName());
  if (!attr)
    return module.emitError()
           << pass << ": weights refer to the parameter archive, but the "
           << "module has no " << TernaryDialect::getArchiveAttrName()
           << " attribute";
  if (outputPath.empty())
    return module.emitError()
           << pass << ": weights come from the archive " << attr.getValue()
           << "; set output-archive=PATH for the " << what;
  inputPath = attr.str();
  char err[TRT_ERROR_MESSAGE_SIZE];
  if (trt_archive_open(inputPath.c_str(), TRT_ARCHIVE_NO_VERIFY, &input, err,
                       sizeof(err)) != TRT_OK ||
      trt_writer_create(outputPath.str().c_str(), &writer, err, sizeof(err)) !=
          TRT_OK)
    return module.emitError() << pass << ": " << err;
  return success();
}
