//===- OnnxImporter.cpp - ONNX to the ternary dialect ---------------------===//
//
// Part of TerMinator.
//
// The importer walks the graph once in topological order. Every ONNX value is
// bound to a Slot: a compile-time HostTensor (shape arithmetic, small
// constants), a named archive entry (large initializers), or an SSA value.
// Ops whose inputs are all known at compile time are folded on the host;
// the others become linalg/tensor/arith/math on static shapes, and MatMul or
// Gemm with a constant weight becomes ternary.linear.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/OnnxImporter.h"
#include "dialect/TernaryOps.h"
#include "frontend/onnx/HostTensor.h"
#include "terminator/runtime.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::terminator;
using ::terminator::onnx::broadcastShapes;
using ::terminator::onnx::ElemType;
using ::terminator::onnx::elemTypeName;
using ::terminator::onnx::elemTypeSize;
using ::terminator::onnx::forEachBroadcast;
using ::terminator::onnx::HostTensor;
using ::terminator::onnx::stridesOf;

namespace {

/// The opsets of the default domain this importer implements.
constexpr int64_t kMinOpset = 13;
constexpr int64_t kMaxOpset = 21;

/// What an ONNX value name stands for.
struct Slot {
  /// Known at compile time.
  std::optional<HostTensor> constant;
  /// A large initializer: the archive entry and its ONNX element type.
  std::string param;
  int32_t paramType = 0;
  llvm::SmallVector<int64_t> paramShape;
  /// A run-time value.
  Value value;
};

/// An initializer's bytes: in the protobuf, in typed fields, or in an
/// external file mapped into memory.
struct InitializerData {
  const char *bytes = nullptr;
  uint64_t size = 0;
  std::unique_ptr<llvm::MemoryBuffer> external;
  /// Converted typed-field data (float_data, int64_data, ...).
  std::vector<char> owned;
};

class Importer {
public:
  Importer(MLIRContext &context, StringRef path,
           const OnnxImportOptions &options)
      : context(context), path(path.str()), options(options), builder(&context),
        fileLoc(FileLineColLoc::get(&context, path, 0, 0)) {}
  ~Importer() { trt_writer_destroy(writer); }

  FailureOr<OwningOpRef<ModuleOp>> run();
  FailureOr<OnnxModelInfo> describe();

private:
  //===--- diagnostics ---===//
  InFlightDiagnostic error() { return emitError(fileLoc) << path << ": "; }
  InFlightDiagnostic nodeError(const ::onnx::NodeProto &node) {
    std::string name = node.name().empty()
                           ? "#" + std::to_string(nodeIndex) + " (unnamed)"
                           : "'" + node.name() + "'";
    return emitError(fileLoc) << path << ": node " << name << " ("
                              << node.op_type() << ", opset " << opset << "): ";
  }

  //===--- model and initializers ---===//
  LogicalResult loadModel();
  LogicalResult readInitializer(const ::onnx::TensorProto &tensor,
                                InitializerData &data);
  LogicalResult importInitializers();
  FailureOr<HostTensor> toHostTensor(const ::onnx::TensorProto &tensor);
  LogicalResult writeParam(StringRef name, int32_t type,
                           ArrayRef<int64_t> shape, const char *bytes,
                           uint64_t size, bool transpose);

  //===--- types and values ---===//
  Type mlirType(int32_t onnxType);
  RankedTensorType tensorType(ArrayRef<int64_t> shape, int32_t onnxType) {
    return RankedTensorType::get(shape, mlirType(onnxType));
  }
  Slot *lookup(const ::onnx::NodeProto &node, int index);
  Value materialize(Slot &slot);
  Value constantOf(const HostTensor &t);

  //===--- graph ---===//
  LogicalResult importGraph(func::FuncOp func);
  LogicalResult importNode(const ::onnx::NodeProto &node);
  LogicalResult foldNode(const ::onnx::NodeProto &node,
                         ArrayRef<HostTensor *> inputs, bool &folded);

  //===--- run-time op builders ---===//
  Value elementwise(ArrayRef<Value> inputs, ArrayRef<int64_t> outShape,
                    Type outElem,
                    function_ref<Value(OpBuilder &, Location, ValueRange)> fn);
  Value reduce(Value input, ArrayRef<int64_t> axes, bool keepDims,
               StringRef kind);
  Value matmul(Value a, Value b);
  Value reshape(Value input, ArrayRef<int64_t> shape);
  Value transpose(Value input, ArrayRef<int64_t> perm);

  MLIRContext &context;
  std::string path;
  const OnnxImportOptions &options;
  OpBuilder builder;
  Location fileLoc;
  ::onnx::ModelProto model;
  int64_t opset = 0;
  /// Position of the node being imported, for messages about unnamed nodes.
  int64_t nodeIndex = 0;
  trt_writer *writer = nullptr;
  /// The `key_mask` argument (OnnxImportOptions::keyMaskLength), and how
  /// many softmaxes it reached.
  Value keyMask;
  int64_t maskedSoftmaxes = 0;
  llvm::StringMap<Slot> slots;
  /// Initializers consumed as the weight of a linear layer, and whether they
  /// are used in any other way too.
  llvm::StringMap<bool> linearWeights;
  /// Linear weights already stored [N, K] (Gemm with transB = 1).
  llvm::StringSet<> outFeaturesFirst;
  /// The entry block and where the next ternary.weight goes in it.
  Block *entry = nullptr;
  Operation *lastWeight = nullptr;
};

} // namespace

//===----------------------------------------------------------------------===//
// Model and initializers
//===----------------------------------------------------------------------===//

LogicalResult Importer::loadModel() {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return error() << "cannot read the model: " << buffer.getError().message()
                   << "; check the path and its permissions";
  google::protobuf::io::ArrayInputStream stream(
      (*buffer)->getBufferStart(), int((*buffer)->getBufferSize()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(std::numeric_limits<int>::max());
  if ((*buffer)->getBufferSize() > uint64_t(std::numeric_limits<int>::max()))
    return error() << "the model file is larger than 2 GiB; protobuf cannot "
                      "hold it. Export with external data (weights in a side "
                      "file) instead";
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage() ||
      !model.has_graph())
    return error() << "not a valid ONNX model (the protobuf is truncated or "
                      "corrupt); re-export it or check that the file is "
                      "complete";
  for (const auto &op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx")
      opset = op.version();
  if (opset < kMinOpset || opset > kMaxOpset)
    return error() << "unsupported opset " << opset << " of the default "
                   << "domain; TerMinator imports opsets " << kMinOpset
                   << " to " << kMaxOpset
                   << ". Re-export the model with one of them (for example "
                      "torch.onnx.export(..., opset_version=18))";
  return success();
}

/// A tensor's shape as `3x2`.
static std::string shapeString(const ::onnx::TensorProto &tensor) {
  return llvm::join(
      llvm::map_range(tensor.dims(),
                      [](int64_t d) { return std::to_string(d); }),
      "x");
}

/// Whether `child` (already made absolute and normalized) lies in `folder`.
static bool isInside(StringRef folder, StringRef child) {
  if (!child.starts_with(folder))
    return false;
  return child.size() == folder.size() ||
         llvm::sys::path::is_separator(child[folder.size()]);
}

LogicalResult Importer::readInitializer(const ::onnx::TensorProto &tensor,
                                        InitializerData &data) {
  int64_t numElements = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return error() << "initializer '" << tensor.name()
                     << "' has a negative dimension " << d;
    numElements *= d;
  }
  unsigned elemSize = elemTypeSize(tensor.data_type());
  if (elemSize == 0)
    return error() << "initializer '" << tensor.name()
                   << "' has unsupported element type "
                   << elemTypeName(tensor.data_type())
                   << "; supported: float, float16, bfloat16, double, int8, "
                      "uint8, int32, int64, bool";
  uint64_t expected = uint64_t(numElements) * elemSize;

  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL) {
    std::string location;
    uint64_t offset = 0, length = expected;
    bool hasLength = false;
    for (const auto &kv : tensor.external_data()) {
      bool bad = false;
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        bad = StringRef(kv.value()).getAsInteger(10, offset);
      else if (kv.key() == "length") {
        bad = StringRef(kv.value()).getAsInteger(10, length);
        hasLength = true;
      }
      if (bad)
        return error() << "initializer '" << tensor.name()
                       << "': external data '" << kv.key() << "' is '"
                       << kv.value() << "', not a number; the model is "
                       << "corrupt, re-export it";
    }
    if (location.empty())
      return error() << "initializer '" << tensor.name()
                     << "' has external data without a 'location'";
    // The data file must lie inside the model's folder.
    SmallString<256> folder(llvm::sys::path::parent_path(path));
    if (folder.empty())
      folder = ".";
    llvm::sys::fs::make_absolute(folder);
    llvm::sys::path::remove_dots(folder, /*remove_dot_dot=*/true);
    SmallString<256> file(location);
    if (llvm::sys::path::is_absolute(file))
      return error() << "initializer '" << tensor.name()
                     << "': external data path '" << location
                     << "' is absolute; it must be relative to the model's "
                        "folder "
                     << folder << " (rejected for safety)";
    SmallString<256> joined(folder);
    llvm::sys::path::append(joined, file);
    llvm::sys::path::remove_dots(joined, /*remove_dot_dot=*/true);
    SmallString<256> real;
    if (!isInside(folder, joined) ||
        (!llvm::sys::fs::real_path(joined, real) && [&] {
          SmallString<256> realFolder;
          return !llvm::sys::fs::real_path(folder, realFolder) &&
                 !isInside(realFolder, real);
        }()))
      return error() << "initializer '" << tensor.name()
                     << "': external data path '" << location
                     << "' escapes the model's folder " << folder
                     << " (rejected for safety); keep the data file next to "
                        "the model";
    // Check the bounds before mapping: reading past the end of a mapped
    // file would fault.
    uint64_t fileSize = 0;
    if (std::error_code ec = llvm::sys::fs::file_size(joined, fileSize))
      return error() << "initializer '" << tensor.name()
                     << "': cannot read external data file '" << location
                     << "' (" << ec.message() << "); copy it next to the model";
    if (offset > fileSize || length > fileSize - offset)
      return error() << "initializer '" << tensor.name()
                     << "': external data file '" << location << "' has "
                     << fileSize << " bytes, but the tensor needs bytes "
                     << offset << " to " << offset + length
                     << "; the data file is truncated or does not belong to "
                        "this model";
    auto slice = llvm::MemoryBuffer::getFileSlice(joined, length, offset);
    if (!slice)
      return error() << "initializer '" << tensor.name()
                     << "': cannot read external data file '" << location
                     << "' (" << slice.getError().message()
                     << "); copy it next to the model";
    if (hasLength && length != expected)
      return error() << "initializer '" << tensor.name() << "' of shape "
                     << shapeString(tensor) << " and type "
                     << elemTypeName(tensor.data_type()) << " needs "
                     << expected << " bytes, but its external "
                     << "data has " << length
                     << "; the model is corrupt, re-export it";
    data.external = std::move(*slice);
    data.bytes = data.external->getBufferStart();
    data.size = data.external->getBufferSize();
    return success();
  }

  if (tensor.has_raw_data()) {
    data.bytes = tensor.raw_data().data();
    data.size = tensor.raw_data().size();
  } else {
    // Typed fields: convert to the little-endian raw layout.
    data.owned.resize(expected);
    auto mismatch = [&](int64_t have) {
      return error() << "initializer '" << tensor.name() << "' has "
                     << numElements << " elements by its shape, but " << have
                     << " values; the model is corrupt, re-export it";
    };
    int32_t t = tensor.data_type();
    if (t == int32_t(ElemType::Float)) {
      if (tensor.float_data_size() != numElements)
        return mismatch(tensor.float_data_size());
      memcpy(data.owned.data(), tensor.float_data().data(), expected);
    } else if (t == int32_t(ElemType::Int64)) {
      if (tensor.int64_data_size() != numElements)
        return mismatch(tensor.int64_data_size());
      memcpy(data.owned.data(), tensor.int64_data().data(), expected);
    } else if (t == int32_t(ElemType::Double)) {
      if (tensor.double_data_size() != numElements)
        return mismatch(tensor.double_data_size());
      memcpy(data.owned.data(), tensor.double_data().data(), expected);
    } else {
      // int32, int8, uint8, bool, float16, bfloat16 live in int32_data.
      if (tensor.int32_data_size() != numElements)
        return mismatch(tensor.int32_data_size());
      for (int64_t k = 0; k < numElements; ++k) {
        int32_t v = tensor.int32_data(int(k));
        memcpy(data.owned.data() + k * elemSize, &v, elemSize);
      }
    }
    data.bytes = data.owned.data();
    data.size = expected;
  }
  if (data.size != expected)
    return error() << "initializer '" << tensor.name() << "' of shape "
                   << shapeString(tensor) << " and type "
                   << elemTypeName(tensor.data_type()) << " needs " << expected
                   << " bytes, but has " << data.size
                   << "; the model is corrupt, re-export it";
  return success();
}

/// A little-endian value of type T at `p` (which need not be aligned).
template <typename T> static T load(const char *p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

FailureOr<HostTensor>
Importer::toHostTensor(const ::onnx::TensorProto &tensor) {
  InitializerData data;
  if (failed(readInitializer(tensor, data)))
    return failure();
  HostTensor t;
  t.type = tensor.data_type();
  t.shape.assign(tensor.dims().begin(), tensor.dims().end());
  t.allocate();
  int64_t n = t.numElements();
  for (int64_t k = 0; k < n; ++k) {
    const char *p = data.bytes + k * elemTypeSize(t.type);
    switch (ElemType(t.type)) {
    case ElemType::Float:
      t.f[k] = load<float>(p);
      break;
    case ElemType::Double:
      t.f[k] = load<double>(p);
      break;
    case ElemType::Int64:
      t.i[k] = load<int64_t>(p);
      break;
    case ElemType::Int32:
      t.i[k] = load<int32_t>(p);
      break;
    case ElemType::Int8:
      t.i[k] = int8_t(*p);
      break;
    case ElemType::UInt8:
    case ElemType::Bool:
      t.i[k] = uint8_t(*p);
      break;
    case ElemType::Float16:
    case ElemType::BFloat16: {
      uint16_t bits = load<uint16_t>(p);
      const llvm::fltSemantics &sem = t.type == int32_t(ElemType::Float16)
                                          ? llvm::APFloat::IEEEhalf()
                                          : llvm::APFloat::BFloat();
      t.f[k] = llvm::APFloat(sem, llvm::APInt(16, bits)).convertToDouble();
      break;
    }
    }
  }
  return t;
}

LogicalResult Importer::writeParam(StringRef name, int32_t type,
                                   ArrayRef<int64_t> shape, const char *bytes,
                                   uint64_t size, bool transposeIt) {
  if (!writer)
    return success(); // a specialization of a model already archived
  char err[TRT_ERROR_MESSAGE_SIZE];
  std::vector<uint64_t> dims(shape.begin(), shape.end());
  std::vector<char> transposed;
  if (transposeIt) {
    // [K, N] as MatMul consumes it -> [N, K] as ternary.linear expects.
    int64_t k = shape[0], n = shape[1];
    unsigned es = elemTypeSize(type);
    transposed.resize(size);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c)
        memcpy(&transposed[(c * k + r) * es], bytes + (r * n + c) * es, es);
    bytes = transposed.data();
    dims = {uint64_t(n), uint64_t(k)};
  }
  trt_dtype dtype = TRT_DTYPE_INVALID;
  switch (ElemType(type)) {
  case ElemType::Float:
    dtype = TRT_DTYPE_F32;
    break;
  case ElemType::Float16:
    dtype = TRT_DTYPE_F16;
    break;
  case ElemType::BFloat16:
    dtype = TRT_DTYPE_BF16;
    break;
  default:
    return error() << "initializer '" << name << "' of type "
                   << elemTypeName(type)
                   << " is too large to keep inline and cannot go to the "
                      "parameter archive";
  }
  if (trt_writer_add(writer, name.str().c_str(), dtype, uint32_t(dims.size()),
                     dims.data(), bytes, size, err, sizeof(err)) != TRT_OK)
    return error() << "cannot write the parameter archive: " << err;
  return success();
}

LogicalResult Importer::importInitializers() {
  const ::onnx::GraphProto &graph = model.graph();
  // Which initializers feed a MatMul/Gemm as its constant weight, and which
  // of those are used otherwise too.
  llvm::StringSet<> initializerNames;
  for (const auto &t : graph.initializer())
    initializerNames.insert(t.name());
  for (const auto &node : graph.node()) {
    bool isLinear = (node.op_type() == "MatMul" || node.op_type() == "Gemm") &&
                    node.domain().empty() && node.input_size() >= 2;
    for (int k = 0; k < node.input_size(); ++k) {
      const std::string &in = node.input(k);
      if (!initializerNames.contains(in))
        continue;
      if (isLinear && k == 1) {
        linearWeights.try_emplace(in, false);
        bool transB = false;
        for (const auto &a : node.attribute())
          transB |= a.name() == "transB" && a.i() != 0;
        if (node.op_type() == "Gemm" && transB)
          outFeaturesFirst.insert(in);
      } else if (linearWeights.count(in)) {
        linearWeights[in] = true;
      }
    }
  }
  // Second pass for uses that came before the linear use.
  for (const auto &node : graph.node()) {
    bool isLinear = (node.op_type() == "MatMul" || node.op_type() == "Gemm") &&
                    node.domain().empty();
    for (int k = 0; k < node.input_size(); ++k)
      if (!(isLinear && k == 1) && linearWeights.count(node.input(k)))
        linearWeights[node.input(k)] = true;
  }

  char err[TRT_ERROR_MESSAGE_SIZE];
  if (!options.archivePath.empty() &&
      trt_writer_create(options.archivePath.c_str(), &writer, err,
                        sizeof(err)) != TRT_OK)
    return error() << "cannot create the parameter archive: " << err;

  for (const auto &tensor : graph.initializer()) {
    if (tensor.name().empty())
      return error() << "an initializer has no name; the model is corrupt";
    Slot slot;
    int64_t numElements = 1;
    for (int64_t d : tensor.dims())
      numElements *= d;
    bool isFloat = ::terminator::onnx::isFloatType(tensor.data_type());
    // Linear weights always go to the archive, whatever their size, so that
    // every linear layer becomes a ternary.linear.
    bool isLinearWeight = isFloat && tensor.dims_size() == 2 &&
                          linearWeights.count(tensor.name());
    bool inlineIt =
        !isLinearWeight && (!isFloat || numElements <= options.inlineLimit);
    if (inlineIt) {
      FailureOr<HostTensor> host = toHostTensor(tensor);
      if (failed(host))
        return failure();
      slot.constant = std::move(*host);
    } else {
      InitializerData data;
      if (writer && failed(readInitializer(tensor, data)))
        return failure();
      slot.paramType = tensor.data_type();
      slot.paramShape.assign(tensor.dims().begin(), tensor.dims().end());
      auto it = linearWeights.find(tensor.name());
      bool linear = it != linearWeights.end() && tensor.dims_size() == 2;
      bool sharedUse = linear && it->second;
      // A weight used only by linear layers is stored [N, K]; one also
      // used otherwise is stored as is, and transposed under `name.linear`.
      slot.param = tensor.name();
      // Gemm with transB already holds [N, K].
      bool transposeIt =
          linear && !sharedUse && !outFeaturesFirst.contains(tensor.name());
      if (failed(writeParam(tensor.name(), tensor.data_type(), slot.paramShape,
                            data.bytes, data.size, transposeIt)))
        return failure();
      if (sharedUse && !outFeaturesFirst.contains(tensor.name()) &&
          failed(writeParam(tensor.name() + ".linear", tensor.data_type(),
                            slot.paramShape, data.bytes, data.size, true)))
        return failure();
    }
    slots[tensor.name()] = std::move(slot);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Types and values
//===----------------------------------------------------------------------===//

Type Importer::mlirType(int32_t onnxType) {
  switch (ElemType(onnxType)) {
  case ElemType::Float:
    return builder.getF32Type();
  case ElemType::Double:
    return builder.getF64Type();
  case ElemType::Float16:
    return builder.getF16Type();
  case ElemType::BFloat16:
    return builder.getBF16Type();
  case ElemType::Int64:
    return builder.getI64Type();
  case ElemType::Int32:
    return builder.getI32Type();
  case ElemType::Int8:
  case ElemType::UInt8:
    return builder.getI8Type();
  case ElemType::Bool:
    return builder.getI1Type();
  }
  return {};
}

Slot *Importer::lookup(const ::onnx::NodeProto &node, int index) {
  if (index >= node.input_size() || node.input(index).empty())
    return nullptr;
  auto it = slots.find(node.input(index));
  return it == slots.end() ? nullptr : &it->second;
}

Value Importer::constantOf(const HostTensor &t) {
  RankedTensorType type = tensorType(t.shape, t.type);
  DenseElementsAttr attr;
  Type elem = type.getElementType();
  if (auto ft = dyn_cast<FloatType>(elem)) {
    SmallVector<APFloat> values;
    for (double v : t.f) {
      APFloat a(v);
      bool lost;
      a.convert(ft.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(a);
    }
    attr = DenseElementsAttr::get(type, values);
  } else {
    unsigned width = elem.getIntOrFloatBitWidth();
    SmallVector<APInt> values;
    for (int64_t v : t.i)
      values.push_back(APInt(width, uint64_t(v), /*isSigned=*/true,
                             /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(type, values);
  }
  return arith::ConstantOp::create(builder, fileLoc, attr);
}

Value Importer::materialize(Slot &slot) {
  if (slot.value)
    return slot.value;
  if (slot.constant) {
    slot.value = constantOf(*slot.constant);
    return slot.value;
  }
  // Archive entries are created once, at the top of the function.
  OpBuilder::InsertionGuard guard(builder);
  if (lastWeight)
    builder.setInsertionPointAfter(lastWeight);
  else
    builder.setInsertionPointToStart(entry);
  auto type = tensorType(slot.paramShape, slot.paramType);
  auto weight = ternary::WeightOp::create(
      builder, fileLoc,
      cast<TypedAttr>(ternary::ParamAttr::get(&context, slot.param, type)));
  lastWeight = weight;
  slot.value = weight;
  return slot.value;
}

//===----------------------------------------------------------------------===//
// Run-time op builders
//===----------------------------------------------------------------------===//

Value Importer::elementwise(
    ArrayRef<Value> inputs, ArrayRef<int64_t> outShape, Type outElem,
    function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  int64_t rank = outShape.size();
  SmallVector<AffineMap> maps;
  for (Value in : inputs) {
    auto shape = cast<RankedTensorType>(in.getType()).getShape();
    SmallVector<AffineExpr> exprs;
    for (size_t k = 0; k < shape.size(); ++k) {
      int64_t outDim = rank - int64_t(shape.size()) + int64_t(k);
      if (shape[k] == 1 && outShape[outDim] != 1)
        exprs.push_back(builder.getAffineConstantExpr(0));
      else
        exprs.push_back(builder.getAffineDimExpr(outDim));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, &context));
  }
  maps.push_back(builder.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(builder, fileLoc, outShape, outElem);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      builder, fileLoc, TypeRange{init.getType()}, inputs, ValueRange{init},
      maps, iterators, [&](OpBuilder &b, Location loc, ValueRange args) {
        Value r = fn(b, loc, args.drop_back());
        linalg::YieldOp::create(b, loc, r);
      });
  return generic.getResult(0);
}

Value Importer::reduce(Value input, ArrayRef<int64_t> axes, bool keepDims,
                       StringRef kind) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  llvm::SmallBitVector reduced(rank);
  for (int64_t a : axes)
    reduced.set(a);
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  for (int64_t k = 0; k < rank; ++k) {
    if (!reduced.test(k)) {
      outShape.push_back(type.getDimSize(k));
      outExprs.push_back(builder.getAffineDimExpr(k));
    } else if (keepDims) {
      outShape.push_back(1);
      outExprs.push_back(builder.getAffineConstantExpr(0));
    }
  }
  Type elem = type.getElementType();
  auto ft = cast<FloatType>(elem);
  double initValue =
      kind == "max" ? -std::numeric_limits<double>::infinity() : 0.0;
  Value init = tensor::EmptyOp::create(builder, fileLoc, outShape, elem);
  Value zero = arith::ConstantOp::create(builder, fileLoc,
                                         builder.getFloatAttr(ft, initValue));
  init = linalg::FillOp::create(builder, fileLoc, ValueRange{zero},
                                ValueRange{init})
             .getResult(0);
  SmallVector<utils::IteratorType> iterators;
  int64_t count = 1;
  for (int64_t k = 0; k < rank; ++k) {
    iterators.push_back(reduced.test(k) ? utils::IteratorType::reduction
                                        : utils::IteratorType::parallel);
    if (reduced.test(k))
      count *= type.getDimSize(k);
  }
  SmallVector<AffineMap> maps = {builder.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, outExprs, &context)};
  auto generic = linalg::GenericOp::create(
      builder, fileLoc, TypeRange{init.getType()}, ValueRange{input},
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value r =
            kind == "max"
                ? arith::MaximumFOp::create(b, loc, args[0], args[1])
                      .getResult()
                : arith::AddFOp::create(b, loc, args[0], args[1]).getResult();
        linalg::YieldOp::create(b, loc, r);
      });
  Value result = generic.getResult(0);
  if (kind == "mean") {
    double inv = 1.0 / double(count);
    result = elementwise({result}, outShape, elem,
                         [&](OpBuilder &b, Location loc, ValueRange a) {
                           Value c = arith::ConstantOp::create(
                               b, loc, b.getFloatAttr(ft, inv));
                           return arith::MulFOp::create(b, loc, a[0], c);
                         });
  }
  return result;
}

Value Importer::matmul(Value a, Value b) {
  auto at = cast<RankedTensorType>(a.getType());
  auto bt = cast<RankedTensorType>(b.getType());
  ArrayRef<int64_t> as = at.getShape(), bs = bt.getShape();
  auto batch = broadcastShapes(as.drop_back(2), bs.drop_back(2));
  SmallVector<int64_t> outShape(*batch);
  int64_t nb = outShape.size();
  int64_t m = as[as.size() - 2], n = bs.back();
  outShape.push_back(m);
  outShape.push_back(n);
  // Loops: batch..., m, n, k.
  int64_t rank = nb + 3;
  auto operandMap = [&](ArrayRef<int64_t> shape, AffineExpr r, AffineExpr c) {
    SmallVector<AffineExpr> exprs;
    int64_t own = shape.size() - 2;
    for (int64_t k = 0; k < own; ++k) {
      int64_t dim = nb - own + k;
      exprs.push_back(shape[k] == 1 && outShape[dim] != 1
                          ? builder.getAffineConstantExpr(0)
                          : builder.getAffineDimExpr(dim));
    }
    exprs.push_back(r);
    exprs.push_back(c);
    return AffineMap::get(rank, 0, exprs, &context);
  };
  AffineExpr dm = builder.getAffineDimExpr(nb),
             dn = builder.getAffineDimExpr(nb + 1),
             dk = builder.getAffineDimExpr(nb + 2);
  SmallVector<AffineExpr> outExprs;
  for (int64_t k = 0; k < nb; ++k)
    outExprs.push_back(builder.getAffineDimExpr(k));
  outExprs.push_back(dm);
  outExprs.push_back(dn);
  SmallVector<AffineMap> maps = {operandMap(as, dm, dk), operandMap(bs, dk, dn),
                                 AffineMap::get(rank, 0, outExprs, &context)};
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Type elem = at.getElementType();
  Value init = tensor::EmptyOp::create(builder, fileLoc, outShape, elem);
  Value zero = arith::ConstantOp::create(
      builder, fileLoc, builder.getFloatAttr(cast<FloatType>(elem), 0.0));
  init = linalg::FillOp::create(builder, fileLoc, ValueRange{zero},
                                ValueRange{init})
             .getResult(0);
  auto generic = linalg::GenericOp::create(
      builder, fileLoc, TypeRange{init.getType()}, ValueRange{a, b},
      ValueRange{init}, maps, iterators,
      [&](OpBuilder &ob, Location loc, ValueRange args) {
        Value p = arith::MulFOp::create(ob, loc, args[0], args[1]);
        Value s = arith::AddFOp::create(ob, loc, args[2], p);
        linalg::YieldOp::create(ob, loc, s);
      });
  return generic.getResult(0);
}

Value Importer::reshape(Value input, ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  Value shapeValue = constantOf(HostTensor::ints(shape));
  return tensor::ReshapeOp::create(
      builder, fileLoc, RankedTensorType::get(shape, type.getElementType()),
      input, shapeValue);
}

Value Importer::transpose(Value input, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init =
      tensor::EmptyOp::create(builder, fileLoc, shape, type.getElementType());
  return linalg::TransposeOp::create(builder, fileLoc, input, init, perm)
      ->getResult(0);
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

namespace {
/// Attribute accessors of a node.
struct Attrs {
  const ::onnx::NodeProto &node;
  const ::onnx::AttributeProto *find(StringRef name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t i(StringRef name, int64_t def) const {
    const auto *a = find(name);
    return a ? a->i() : def;
  }
  float f(StringRef name, float def) const {
    const auto *a = find(name);
    return a ? a->f() : def;
  }
  std::string s(StringRef name, StringRef def) const {
    const auto *a = find(name);
    return a ? a->s() : def.str();
  }
  std::optional<SmallVector<int64_t>> ints(StringRef name) const {
    const auto *a = find(name);
    if (!a)
      return std::nullopt;
    return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
  }
};

/// The output of Shape on a tensor of `shape`: its dimensions from the
/// `start` attribute to the `end` attribute (negative counts from the end).
HostTensor shapeResult(ArrayRef<int64_t> shape, const Attrs &attrs) {
  int64_t rank = shape.size();
  int64_t start = attrs.i("start", 0), end = attrs.i("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  return HostTensor::ints(
      shape.slice(start, std::max<int64_t>(end - start, 0)));
}

/// Normalizes a possibly negative axis; -1 if out of range.
int64_t normAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  return axis < 0 || axis >= rank ? -1 : axis;
}
} // namespace

/// Element-wise ops: their host and run-time bodies.
static bool isBinaryElementwise(StringRef op) {
  return llvm::is_contained({"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min",
                             "Equal", "Less", "LessOrEqual", "Greater",
                             "GreaterOrEqual", "And", "Or", "Mod"},
                            op);
}
static bool isUnaryElementwise(StringRef op) {
  return llvm::is_contained({"Sqrt", "Neg", "Exp", "Tanh", "Erf", "Sigmoid",
                             "Reciprocal", "Abs", "Relu", "Log", "Cos", "Sin",
                             "IsNaN", "Not", "Identity", "Floor", "Ceil"},
                            op);
}
static bool isComparison(StringRef op) {
  return llvm::is_contained({"Equal", "Less", "LessOrEqual", "Greater",
                             "GreaterOrEqual", "And", "Or", "Not", "IsNaN"},
                            op);
}

static double hostBinary(StringRef op, double a, double b) {
  if (op == "Add")
    return a + b;
  if (op == "Sub")
    return a - b;
  if (op == "Mul")
    return a * b;
  if (op == "Div")
    return a / b;
  if (op == "Pow")
    return std::pow(a, b);
  if (op == "Max")
    return std::max(a, b);
  if (op == "Min")
    return std::min(a, b);
  if (op == "Mod")
    return std::fmod(a, b);
  if (op == "Equal")
    return a == b;
  if (op == "Less")
    return a < b;
  if (op == "LessOrEqual")
    return a <= b;
  if (op == "Greater")
    return a > b;
  if (op == "GreaterOrEqual")
    return a >= b;
  if (op == "And")
    return (a != 0) && (b != 0);
  return (a != 0) || (b != 0); // Or
}

static int64_t hostBinaryInt(StringRef op, int64_t a, int64_t b) {
  if (op == "Add")
    return a + b;
  if (op == "Sub")
    return a - b;
  if (op == "Mul")
    return a * b;
  if (op == "Div")
    return b == 0 ? 0 : a / b;
  if (op == "Mod")
    return b == 0 ? 0 : a % b;
  if (op == "Max")
    return std::max(a, b);
  if (op == "Min")
    return std::min(a, b);
  return int64_t(hostBinary(op, double(a), double(b)));
}

static double hostUnary(StringRef op, double x) {
  if (op == "Sqrt")
    return std::sqrt(x);
  if (op == "Neg")
    return -x;
  if (op == "Exp")
    return std::exp(x);
  if (op == "Tanh")
    return std::tanh(x);
  if (op == "Erf")
    return std::erf(x);
  if (op == "Sigmoid")
    return 1.0 / (1.0 + std::exp(-x));
  if (op == "Reciprocal")
    return 1.0 / x;
  if (op == "Abs")
    return std::fabs(x);
  if (op == "Relu")
    return std::max(x, 0.0);
  if (op == "Log")
    return std::log(x);
  if (op == "Cos")
    return std::cos(x);
  if (op == "Sin")
    return std::sin(x);
  if (op == "IsNaN")
    return std::isnan(x);
  if (op == "Not")
    return x == 0;
  if (op == "Floor")
    return std::floor(x);
  if (op == "Ceil")
    return std::ceil(x);
  return x; // Identity
}

/// Slice parameters resolved against a shape: per axis start, size, step.
struct SliceSpec {
  SmallVector<int64_t> starts, sizes, steps;
};

static FailureOr<SliceSpec>
resolveSlice(ArrayRef<int64_t> shape, const HostTensor &starts,
             const HostTensor &ends, const HostTensor *axesT,
             const HostTensor *stepsT, std::string &why) {
  int64_t rank = shape.size();
  SliceSpec spec;
  spec.starts.assign(rank, 0);
  spec.sizes.assign(shape.begin(), shape.end());
  spec.steps.assign(rank, 1);
  int64_t n = starts.numElements();
  for (int64_t k = 0; k < n; ++k) {
    int64_t axis = axesT ? normAxis(axesT->getI(k), rank) : k;
    if (axis < 0) {
      why = "slice axis out of range";
      return failure();
    }
    int64_t step = stepsT ? stepsT->getI(k) : 1;
    if (step <= 0) {
      why = "slices with a step of " + std::to_string(step) +
            " are not supported (only positive steps)";
      return failure();
    }
    int64_t dim = shape[axis];
    int64_t s = starts.getI(k), e = ends.getI(k);
    if (s < 0)
      s += dim;
    if (e < 0)
      e += dim;
    s = std::clamp<int64_t>(s, 0, dim);
    e = std::clamp<int64_t>(e, 0, dim);
    spec.starts[axis] = s;
    spec.steps[axis] = step;
    spec.sizes[axis] = e > s ? (e - s + step - 1) / step : 0;
  }
  return spec;
}

/// Resolves a Reshape target shape (0 copies, -1 infers).
static FailureOr<SmallVector<int64_t>> resolveReshape(ArrayRef<int64_t> in,
                                                      const HostTensor &target,
                                                      bool allowZero,
                                                      std::string &why) {
  SmallVector<int64_t> out;
  int64_t known = 1, inferAt = -1, total = 1;
  for (int64_t d : in)
    total *= d;
  for (int64_t k = 0; k < target.numElements(); ++k) {
    int64_t d = target.getI(k);
    if (d == 0 && !allowZero) {
      if (k >= int64_t(in.size())) {
        why = "reshape copies dimension " + std::to_string(k) +
              " of an input of rank " + std::to_string(in.size());
        return failure();
      }
      d = in[k];
    }
    if (d == -1) {
      if (inferAt >= 0) {
        why = "reshape target has two -1 dimensions";
        return failure();
      }
      inferAt = k;
      out.push_back(1);
      continue;
    }
    known *= d;
    out.push_back(d);
  }
  if (inferAt >= 0)
    out[inferAt] = known == 0 ? 0 : total / known;
  int64_t product = 1;
  for (int64_t d : out)
    product *= d;
  if (product != total) {
    why = "cannot reshape " + std::to_string(total) + " elements to " +
          std::to_string(product);
    return failure();
  }
  return out;
}

LogicalResult Importer::foldNode(const ::onnx::NodeProto &node,
                                 ArrayRef<HostTensor *> in, bool &folded) {
  folded = false;
  StringRef op = node.op_type();
  Attrs attrs{node};
  auto result = [&](HostTensor t, int index = 0) {
    slots[node.output(index)].constant = std::move(t);
  };
  auto need = [&](size_t n) {
    if (in.size() < n ||
        llvm::any_of(in.take_front(n), [](HostTensor *t) { return !t; }))
      return false;
    return true;
  };
  std::string why;

  if (isBinaryElementwise(op) && need(2)) {
    auto shape = broadcastShapes(in[0]->shape, in[1]->shape);
    if (!shape)
      return nodeError(node) << "inputs of shapes that do not broadcast";
    HostTensor t;
    t.type = isComparison(op) ? int32_t(ElemType::Bool) : in[0]->type;
    t.shape = *shape;
    t.allocate();
    bool isFloat = in[0]->isFloat() || in[1]->isFloat();
    forEachBroadcast(
        t.shape, {in[0]->shape, in[1]->shape},
        [&](int64_t o, ArrayRef<int64_t> ix) {
          if (t.isFloat())
            t.f[o] = hostBinary(op, in[0]->getF(ix[0]), in[1]->getF(ix[1]));
          else if (isFloat)
            t.i[o] =
                int64_t(hostBinary(op, in[0]->getF(ix[0]), in[1]->getF(ix[1])));
          else
            t.i[o] = hostBinaryInt(op, in[0]->getI(ix[0]), in[1]->getI(ix[1]));
        });
    result(std::move(t));
  } else if (isUnaryElementwise(op) && need(1)) {
    HostTensor t = *in[0];
    if (isComparison(op)) {
      t.type = int32_t(ElemType::Bool);
      t.i.assign(size_t(t.numElements()), 0);
      for (int64_t k = 0; k < t.numElements(); ++k)
        t.i[k] = int64_t(hostUnary(op, in[0]->getF(k)));
      t.f.clear();
    } else if (t.isFloat()) {
      for (double &v : t.f)
        v = hostUnary(op, v);
    } else {
      for (int64_t &v : t.i)
        v = int64_t(hostUnary(op, double(v)));
    }
    result(std::move(t));
  } else if (op == "Cast" && need(1)) {
    HostTensor t = *in[0];
    int32_t to = int32_t(attrs.i("to", 1));
    if (elemTypeSize(to) == 0)
      return nodeError(node) << "cast to unsupported type " << elemTypeName(to);
    t.type = to;
    t.allocate();
    for (int64_t k = 0; k < t.numElements(); ++k) {
      if (t.isFloat())
        t.f[k] = in[0]->getF(k);
      else if (to == int32_t(ElemType::Bool))
        t.i[k] = in[0]->getF(k) != 0;
      else
        t.i[k] =
            in[0]->isFloat() ? int64_t(std::trunc(in[0]->f[k])) : in[0]->i[k];
    }
    result(std::move(t));
  } else if (op == "Where" && need(3)) {
    auto s01 = broadcastShapes(in[0]->shape, in[1]->shape);
    auto shape = s01 ? broadcastShapes(*s01, in[2]->shape) : std::nullopt;
    if (!shape)
      return nodeError(node) << "inputs of shapes that do not broadcast";
    HostTensor t;
    t.type = in[1]->type;
    t.shape = *shape;
    t.allocate();
    forEachBroadcast(t.shape, {in[0]->shape, in[1]->shape, in[2]->shape},
                     [&](int64_t o, ArrayRef<int64_t> ix) {
                       bool c = in[0]->getI(ix[0]) != 0;
                       if (t.isFloat())
                         t.f[o] = c ? in[1]->getF(ix[1]) : in[2]->getF(ix[2]);
                       else
                         t.i[o] = c ? in[1]->getI(ix[1]) : in[2]->getI(ix[2]);
                     });
    result(std::move(t));
  } else if ((op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" ||
              op == "Flatten") &&
             need(1) && (op == "Flatten" || op == "Squeeze" || need(2))) {
    // Shape-only ops: the data is unchanged.
    HostTensor t = *in[0];
    SmallVector<int64_t> shape;
    if (op == "Reshape") {
      auto s =
          resolveReshape(in[0]->shape, *in[1], attrs.i("allowzero", 0), why);
      if (failed(s))
        return nodeError(node) << why;
      shape = *s;
    } else if (op == "Unsqueeze") {
      int64_t rank = in[0]->shape.size() + in[1]->numElements();
      llvm::SmallBitVector at(rank);
      for (int64_t k = 0; k < in[1]->numElements(); ++k) {
        int64_t a = normAxis(in[1]->getI(k), rank);
        if (a < 0)
          return nodeError(node) << "axis out of range";
        at.set(a);
      }
      size_t src = 0;
      for (int64_t k = 0; k < rank; ++k)
        shape.push_back(at.test(k) ? 1 : in[0]->shape[src++]);
    } else if (op == "Squeeze") {
      int64_t rank = in[0]->shape.size();
      llvm::SmallBitVector at(rank);
      if (in.size() > 1 && in[1]) {
        for (int64_t k = 0; k < in[1]->numElements(); ++k)
          at.set(normAxis(in[1]->getI(k), rank));
      } else {
        for (int64_t k = 0; k < rank; ++k)
          if (in[0]->shape[k] == 1)
            at.set(k);
      }
      for (int64_t k = 0; k < rank; ++k)
        if (!at.test(k))
          shape.push_back(in[0]->shape[k]);
    } else {
      int64_t axis = normAxis(attrs.i("axis", 1), in[0]->shape.size() + 1);
      int64_t a = 1, b = 1;
      for (int64_t k = 0; k < int64_t(in[0]->shape.size()); ++k)
        (k < axis ? a : b) *= in[0]->shape[k];
      shape = {a, b};
    }
    t.shape = shape;
    result(std::move(t));
  } else if (op == "Concat" &&
             llvm::all_of(in, [](HostTensor *t) { return t; })) {
    int64_t rank = in[0]->shape.size();
    int64_t axis = normAxis(attrs.i("axis", 0), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    HostTensor t;
    t.type = in[0]->type;
    t.shape = in[0]->shape;
    t.shape[axis] = 0;
    for (HostTensor *x : in)
      t.shape[axis] += x->shape[axis];
    t.allocate();
    int64_t outer = 1;
    for (int64_t k = 0; k < axis; ++k)
      outer *= t.shape[k];
    int64_t pos = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (HostTensor *x : in) {
        int64_t chunk = x->numElements() / std::max<int64_t>(outer, 1);
        for (int64_t k = 0; k < chunk; ++k, ++pos) {
          if (t.isFloat())
            t.f[pos] = x->getF(o * chunk + k);
          else
            t.i[pos] = x->getI(o * chunk + k);
        }
      }
    result(std::move(t));
  } else if (op == "Shape" && need(1)) {
    result(shapeResult(in[0]->shape, attrs));
  } else if (op == "Size" && need(1)) {
    result(HostTensor::scalar(double(in[0]->numElements()),
                              int32_t(ElemType::Int64)));
  } else if (op == "Gather" && need(2)) {
    int64_t rank = in[0]->shape.size();
    int64_t axis = normAxis(attrs.i("axis", 0), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    HostTensor t;
    t.type = in[0]->type;
    t.shape.assign(in[0]->shape.begin(), in[0]->shape.begin() + axis);
    t.shape.append(in[1]->shape.begin(), in[1]->shape.end());
    t.shape.append(in[0]->shape.begin() + axis + 1, in[0]->shape.end());
    t.allocate();
    int64_t outer = 1, inner = 1, dim = in[0]->shape[axis];
    for (int64_t k = 0; k < axis; ++k)
      outer *= in[0]->shape[k];
    for (int64_t k = axis + 1; k < rank; ++k)
      inner *= in[0]->shape[k];
    int64_t nIdx = in[1]->numElements(), pos = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < nIdx; ++j) {
        int64_t idx = in[1]->getI(j);
        if (idx < 0)
          idx += dim;
        if (idx < 0 || idx >= dim)
          return nodeError(node) << "index " << in[1]->getI(j)
                                 << " out of range for a dimension of " << dim;
        for (int64_t k = 0; k < inner; ++k, ++pos) {
          int64_t src = (o * dim + idx) * inner + k;
          if (t.isFloat())
            t.f[pos] = in[0]->f[src];
          else
            t.i[pos] = in[0]->i[src];
        }
      }
    result(std::move(t));
  } else if (op == "GatherND" && need(2)) {
    int64_t b = attrs.i("batch_dims", 0);
    ArrayRef<int64_t> ds = in[0]->shape, is = in[1]->shape;
    int64_t r = ds.size(), q = is.size();
    int64_t m = q ? is.back() : 0;
    if (q < 1 || b < 0 || b >= q || m < 1 || b + m > r)
      return nodeError(node)
             << "GatherND with indices of shape ["
             << llvm::join(llvm::map_range(
                               is, [](int64_t d) { return std::to_string(d); }),
                           ", ")
             << "] and batch_dims " << b << " does not fit data of rank " << r;
    HostTensor t;
    t.type = in[0]->type;
    t.shape.assign(is.begin(), is.end() - 1);
    t.shape.append(ds.begin() + b + m, ds.end());
    t.allocate();
    SmallVector<int64_t> dstrides = stridesOf(ds);
    int64_t batches = 1, perBatch = 1, sliceSize = 1;
    for (int64_t k = 0; k < b; ++k)
      batches *= is[k];
    for (int64_t k = b; k < q - 1; ++k)
      perBatch *= is[k];
    for (int64_t k = b + m; k < r; ++k)
      sliceSize *= ds[k];
    int64_t dataBatch = b ? dstrides[b - 1] : 0, pos = 0;
    for (int64_t bi = 0; bi < batches; ++bi)
      for (int64_t j = 0; j < perBatch; ++j) {
        int64_t src = bi * dataBatch;
        for (int64_t k = 0; k < m; ++k) {
          int64_t idx = in[1]->getI((bi * perBatch + j) * m + k);
          int64_t dim = ds[b + k];
          if (idx < 0)
            idx += dim;
          if (idx < 0 || idx >= dim)
            return nodeError(node)
                   << "index " << idx << " out of range for a dimension of "
                   << dim;
          src += idx * dstrides[b + k];
        }
        for (int64_t e = 0; e < sliceSize; ++e, ++pos) {
          if (t.isFloat())
            t.f[pos] = in[0]->f[src + e];
          else
            t.i[pos] = in[0]->i[src + e];
        }
      }
    result(std::move(t));
  } else if (op == "Slice" && need(3)) {
    HostTensor *axes = in.size() > 3 ? in[3] : nullptr;
    HostTensor *steps = in.size() > 4 ? in[4] : nullptr;
    auto spec = resolveSlice(in[0]->shape, *in[1], *in[2], axes, steps, why);
    if (failed(spec))
      return nodeError(node) << why;
    HostTensor t;
    t.type = in[0]->type;
    t.shape = spec->sizes;
    t.allocate();
    SmallVector<int64_t> strides = stridesOf(in[0]->shape);
    SmallVector<int64_t> zeros(t.shape.size(), 0);
    SmallVector<SmallVector<int64_t>> noInputs;
    int64_t rank = t.shape.size();
    SmallVector<int64_t> idx(rank, 0);
    for (int64_t o = 0; o < t.numElements(); ++o) {
      int64_t src = 0;
      for (int64_t k = 0; k < rank; ++k)
        src += (spec->starts[k] + idx[k] * spec->steps[k]) * strides[k];
      if (t.isFloat())
        t.f[o] = in[0]->f[src];
      else
        t.i[o] = in[0]->i[src];
      for (int64_t k = rank - 1; k >= 0; --k) {
        if (++idx[k] < t.shape[k])
          break;
        idx[k] = 0;
      }
    }
    result(std::move(t));
  } else if (op == "Range" && need(3)) {
    HostTensor t;
    t.type = in[0]->type;
    double start = in[0]->getF(0), limit = in[1]->getF(0),
           delta = in[2]->getF(0);
    if (delta == 0)
      return nodeError(node) << "Range with a delta of 0";
    int64_t n =
        std::max<int64_t>(int64_t(std::ceil((limit - start) / delta)), 0);
    t.shape = {n};
    t.allocate();
    for (int64_t k = 0; k < n; ++k) {
      if (t.isFloat())
        t.f[k] = start + double(k) * delta;
      else
        t.i[k] = in[0]->getI(0) + k * in[2]->getI(0);
    }
    result(std::move(t));
  } else if (op == "ConstantOfShape" && need(1)) {
    HostTensor t;
    t.type = int32_t(ElemType::Float);
    double v = 0;
    if (const auto *a = attrs.find("value")) {
      FailureOr<HostTensor> value = toHostTensor(a->t());
      if (failed(value))
        return failure();
      t.type = value->type;
      v = value->getF(0);
    }
    for (int64_t k = 0; k < in[0]->numElements(); ++k)
      t.shape.push_back(in[0]->getI(k));
    t.allocate();
    if (t.isFloat())
      std::fill(t.f.begin(), t.f.end(), v);
    else
      std::fill(t.i.begin(), t.i.end(), int64_t(v));
    result(std::move(t));
  } else if (op == "Expand" && need(2)) {
    SmallVector<int64_t> target;
    for (int64_t k = 0; k < in[1]->numElements(); ++k)
      target.push_back(in[1]->getI(k));
    auto shape = broadcastShapes(in[0]->shape, target);
    if (!shape)
      return nodeError(node) << "cannot expand the input to the target shape";
    HostTensor t;
    t.type = in[0]->type;
    t.shape = *shape;
    t.allocate();
    forEachBroadcast(t.shape, {in[0]->shape},
                     [&](int64_t o, ArrayRef<int64_t> ix) {
                       if (t.isFloat())
                         t.f[o] = in[0]->f[ix[0]];
                       else
                         t.i[o] = in[0]->i[ix[0]];
                     });
    result(std::move(t));
  } else if (op == "Trilu" && need(1)) {
    HostTensor t = *in[0];
    int64_t k = in.size() > 1 && in[1] ? in[1]->getI(0) : 0;
    bool upper = attrs.i("upper", 1);
    int64_t rank = t.shape.size();
    int64_t rows = t.shape[rank - 2], cols = t.shape[rank - 1];
    for (int64_t e = 0; e < t.numElements(); ++e) {
      int64_t c = e % cols, r = (e / cols) % rows;
      bool keep = upper ? c - r >= k : c - r <= k;
      if (!keep) {
        if (t.isFloat())
          t.f[e] = 0;
        else
          t.i[e] = 0;
      }
    }
    result(std::move(t));
  } else if (op == "CumSum" && need(2)) {
    HostTensor t = *in[0];
    int64_t rank = t.shape.size();
    int64_t axis = normAxis(in[1]->getI(0), rank);
    bool exclusive = attrs.i("exclusive", 0), reverse = attrs.i("reverse", 0);
    SmallVector<int64_t> strides = stridesOf(t.shape);
    int64_t dim = t.shape[axis], stride = strides[axis];
    for (int64_t e = 0; e < t.numElements(); ++e) {
      if ((e / stride) % dim != 0)
        continue; // start of each line along `axis`
      double acc = 0;
      for (int64_t j = 0; j < dim; ++j) {
        int64_t jj = reverse ? dim - 1 - j : j;
        int64_t at = e + jj * stride;
        double v = in[0]->getF(at);
        if (exclusive) {
          if (t.isFloat())
            t.f[at] = acc;
          else
            t.i[at] = int64_t(acc);
          acc += v;
        } else {
          acc += v;
          if (t.isFloat())
            t.f[at] = acc;
          else
            t.i[at] = int64_t(acc);
        }
      }
    }
    result(std::move(t));
  } else {
    return success();
  }
  folded = true;
  return success();
}

LogicalResult Importer::importNode(const ::onnx::NodeProto &node) {
  StringRef op = node.op_type();
  Attrs attrs{node};
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return nodeError(node) << "unsupported op '" << op << "' of domain '"
                           << node.domain()
                           << "'; only the default ONNX domain is supported. "
                              "Export without custom or contrib ops";

  // Constant: a compile-time tensor.
  if (op == "Constant") {
    HostTensor t;
    if (const auto *a = attrs.find("value")) {
      FailureOr<HostTensor> value = toHostTensor(a->t());
      if (failed(value))
        return failure();
      t = std::move(*value);
    } else if (const auto *a = attrs.find("value_float")) {
      t = HostTensor::scalar(a->f(), int32_t(ElemType::Float));
    } else if (const auto *a = attrs.find("value_int")) {
      t = HostTensor::scalar(double(a->i()), int32_t(ElemType::Int64));
    } else if (const auto *a = attrs.find("value_ints")) {
      t = HostTensor::ints(
          SmallVector<int64_t>(a->ints().begin(), a->ints().end()));
    } else if (const auto *a = attrs.find("value_floats")) {
      t.type = int32_t(ElemType::Float);
      t.shape = {a->floats_size()};
      t.f.assign(a->floats().begin(), a->floats().end());
    } else {
      return nodeError(node) << "unsupported Constant attribute; expected "
                                "value, value_float(s) or value_int(s)";
    }
    slots[node.output(0)].constant = std::move(t);
    return success();
  }

  // Inputs: missing names are optional inputs left out.
  SmallVector<Slot *> ins;
  for (int k = 0; k < node.input_size(); ++k) {
    if (node.input(k).empty()) {
      ins.push_back(nullptr);
      continue;
    }
    Slot *s = lookup(node, k);
    if (!s)
      return nodeError(node) << "input '" << node.input(k)
                             << "' is not produced by any earlier node, "
                                "initializer or graph input; the graph is "
                                "not in topological order or is corrupt";
    ins.push_back(s);
  }
  auto typeOf = [&](Slot *s) -> RankedTensorType {
    if (s->value)
      return cast<RankedTensorType>(s->value.getType());
    if (s->constant)
      return tensorType(s->constant->shape, s->constant->type);
    return tensorType(s->paramShape, s->paramType);
  };

  // Shape ops on a run-time or archive value need only its static shape.
  if (op == "Shape" && ins.size() >= 1 && ins[0] && !ins[0]->constant) {
    slots[node.output(0)].constant =
        shapeResult(typeOf(ins[0]).getShape(), attrs);
    return success();
  }
  if (op == "Size" && ins.size() >= 1 && ins[0] && !ins[0]->constant) {
    slots[node.output(0)].constant = HostTensor::scalar(
        double(typeOf(ins[0]).getNumElements()), int32_t(ElemType::Int64));
    return success();
  }

  // Fold when every input is known at compile time.
  SmallVector<HostTensor *> hostIns;
  bool allHost = true;
  for (Slot *s : ins) {
    hostIns.push_back(s && s->constant ? &*s->constant : nullptr);
    allHost &= !s || bool(s->constant);
  }
  if (allHost) {
    bool folded = false;
    if (failed(foldNode(node, hostIns, folded)))
      return failure();
    if (folded)
      return success();
  }

  // Run-time ops. Helpers for constant operands.
  auto requireConst = [&](int k, StringRef what) -> const HostTensor * {
    if (k < int(ins.size()) && ins[k] && ins[k]->constant)
      return &*ins[k]->constant;
    nodeError(node) << "input " << k << " (" << what
                    << ") must be known at compile time; the importer makes "
                       "every shape static, so it cannot depend on run-time "
                       "data";
    return nullptr;
  };
  auto value = [&](int k) { return materialize(*ins[k]); };
  auto shapeOf = [&](Value v) {
    return SmallVector<int64_t>(cast<RankedTensorType>(v.getType()).getShape());
  };
  auto elemOf = [&](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  };
  auto setOut = [&](Value v, int index = 0) {
    slots[node.output(index)].value = v;
    return success();
  };
  std::string why;

  // Linear layers: MatMul or Gemm with a constant 2-D weight in the archive.
  if ((op == "MatMul" || op == "Gemm") && ins.size() >= 2 && ins[1] &&
      !ins[1]->param.empty() && ins[1]->paramShape.size() == 2) {
    if (op == "Gemm" && (attrs.i("transA", 0) || attrs.f("alpha", 1.0f) != 1 ||
                         attrs.f("beta", 1.0f) != 1))
      return nodeError(node) << "Gemm with transA, alpha or beta other than "
                                "the defaults is not supported";
    bool weightIsNK = op == "Gemm" && attrs.i("transB", 0);
    auto it = linearWeights.find(node.input(1));
    bool shared = it != linearWeights.end() && it->second;
    int64_t n = weightIsNK ? ins[1]->paramShape[0] : ins[1]->paramShape[1];
    int64_t k = weightIsNK ? ins[1]->paramShape[1] : ins[1]->paramShape[0];
    Value x = value(0);
    SmallVector<int64_t> xs = shapeOf(x);
    if (xs.empty() || xs.back() != k)
      return nodeError(node)
             << "input of shape ["
             << llvm::join(llvm::map_range(
                               xs, [](int64_t d) { return std::to_string(d); }),
                           ", ")
             << "] does not match a weight with " << k << " input features";
    Value w;
    if (weightIsNK) {
      w = materialize(*ins[1]);
    } else {
      Slot linearSlot;
      linearSlot.param = shared ? node.input(1) + ".linear" : node.input(1);
      linearSlot.paramType = ins[1]->paramType;
      linearSlot.paramShape = {n, k};
      auto &cached = slots[linearSlot.param + "#linear"];
      if (!cached.value)
        cached.value = materialize(linearSlot);
      w = cached.value;
    }
    Value bias;
    if (op == "Gemm" && ins.size() > 2 && ins[2]) {
      bias = value(2);
      if (shapeOf(bias) != SmallVector<int64_t>{n})
        bias = reshape(bias, {n});
    }
    SmallVector<int64_t> ys = xs;
    ys.back() = n;
    auto resultType = RankedTensorType::get(ys, elemOf(x));
    return setOut(
        ternary::LinearOp::create(builder, fileLoc, resultType, x, w, bias));
  }
  if (op == "MatMul") {
    Value a = value(0), b = value(1);
    if (shapeOf(a).size() < 2 || shapeOf(b).size() < 2)
      return nodeError(node) << "MatMul of rank-1 operands is not supported";
    if (!broadcastShapes(ArrayRef(shapeOf(a)).drop_back(2),
                         ArrayRef(shapeOf(b)).drop_back(2)) ||
        shapeOf(a).back() != shapeOf(b)[shapeOf(b).size() - 2])
      return nodeError(node) << "operands of incompatible shapes";
    return setOut(matmul(a, b));
  }

  if (isBinaryElementwise(op) || op == "Where") {
    SmallVector<Value> vs;
    for (size_t k = 0; k < ins.size(); ++k)
      vs.push_back(value(k));
    std::optional<SmallVector<int64_t>> shape = shapeOf(vs[0]);
    for (Value v : ArrayRef(vs).drop_front())
      shape = shape ? broadcastShapes(*shape, shapeOf(v)) : std::nullopt;
    if (!shape)
      return nodeError(node) << "inputs of shapes that do not broadcast";
    // Pow by a constant 2 is a multiplication (RMSNorm's x²).
    bool square = op == "Pow" && ins[1]->constant &&
                  ins[1]->constant->numElements() == 1 &&
                  ins[1]->constant->getF(0) == 2.0;
    Type elem = op == "Where" ? elemOf(vs[1]) : elemOf(vs[0]);
    Type outElem = isComparison(op) ? builder.getI1Type() : elem;
    bool isFloat = isa<FloatType>(elem);
    if (!isFloat && !isComparison(op) && op != "Where" &&
        !llvm::is_contained({"Add", "Sub", "Mul", "Max", "Min"}, op))
      return nodeError(node)
             << "integer " << op << " on run-time values is not supported";
    std::string opName = op.str();
    return setOut(elementwise(
        vs, *shape, outElem, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value x = a[0], y = a.size() > 1 ? a[1] : Value();
          if (opName == "Where")
            return arith::SelectOp::create(b, loc, a[0], a[1], a[2])
                .getResult();
          if (isFloat) {
            if (opName == "Add")
              return arith::AddFOp::create(b, loc, x, y).getResult();
            if (opName == "Sub")
              return arith::SubFOp::create(b, loc, x, y).getResult();
            if (opName == "Mul")
              return arith::MulFOp::create(b, loc, x, y).getResult();
            if (opName == "Div")
              return arith::DivFOp::create(b, loc, x, y).getResult();
            if (opName == "Pow")
              return square ? arith::MulFOp::create(b, loc, x, x).getResult()
                            : math::PowFOp::create(b, loc, x, y).getResult();
            if (opName == "Max")
              return arith::MaximumFOp::create(b, loc, x, y).getResult();
            if (opName == "Min")
              return arith::MinimumFOp::create(b, loc, x, y).getResult();
            arith::CmpFPredicate p =
                opName == "Equal"         ? arith::CmpFPredicate::OEQ
                : opName == "Less"        ? arith::CmpFPredicate::OLT
                : opName == "LessOrEqual" ? arith::CmpFPredicate::OLE
                : opName == "Greater"     ? arith::CmpFPredicate::OGT
                                          : arith::CmpFPredicate::OGE;
            return arith::CmpFOp::create(b, loc, p, x, y).getResult();
          }
          if (opName == "Add")
            return arith::AddIOp::create(b, loc, x, y).getResult();
          if (opName == "Sub")
            return arith::SubIOp::create(b, loc, x, y).getResult();
          if (opName == "Mul")
            return arith::MulIOp::create(b, loc, x, y).getResult();
          if (opName == "Max")
            return arith::MaxSIOp::create(b, loc, x, y).getResult();
          if (opName == "Min")
            return arith::MinSIOp::create(b, loc, x, y).getResult();
          if (opName == "And")
            return arith::AndIOp::create(b, loc, x, y).getResult();
          if (opName == "Or")
            return arith::OrIOp::create(b, loc, x, y).getResult();
          arith::CmpIPredicate p =
              opName == "Equal"         ? arith::CmpIPredicate::eq
              : opName == "Less"        ? arith::CmpIPredicate::slt
              : opName == "LessOrEqual" ? arith::CmpIPredicate::sle
              : opName == "Greater"     ? arith::CmpIPredicate::sgt
                                        : arith::CmpIPredicate::sge;
          return arith::CmpIOp::create(b, loc, p, x, y).getResult();
        }));
  }

  if (isUnaryElementwise(op)) {
    Value x = value(0);
    if (op == "Identity")
      return setOut(x);
    Type elem = elemOf(x);
    bool isFloat = isa<FloatType>(elem);
    if (!isFloat && op != "Not" && op != "Neg" && op != "Abs")
      return nodeError(node) << op
                             << " on integer run-time values is not "
                                "supported";
    Type outElem = isComparison(op) ? builder.getI1Type() : elem;
    std::string opName = op.str();
    return setOut(elementwise(
        {x}, shapeOf(x), outElem,
        [&](OpBuilder &b, Location loc, ValueRange a) {
          Value v = a[0];
          auto fconst = [&](double c) {
            return arith::ConstantOp::create(
                b, loc, b.getFloatAttr(cast<FloatType>(elem), c));
          };
          if (opName == "Not") {
            Value one = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
            return arith::XOrIOp::create(b, loc, v, one).getResult();
          }
          if (!isFloat) {
            Value zero =
                arith::ConstantOp::create(b, loc, b.getIntegerAttr(elem, 0));
            Value neg = arith::SubIOp::create(b, loc, zero, v);
            if (opName == "Neg")
              return neg;
            return arith::MaxSIOp::create(b, loc, v, neg).getResult();
          }
          if (opName == "Sqrt")
            return math::SqrtOp::create(b, loc, v).getResult();
          if (opName == "Neg")
            return arith::NegFOp::create(b, loc, v).getResult();
          if (opName == "Exp")
            return math::ExpOp::create(b, loc, v).getResult();
          if (opName == "Tanh")
            return math::TanhOp::create(b, loc, v).getResult();
          if (opName == "Erf")
            return math::ErfOp::create(b, loc, v).getResult();
          if (opName == "Log")
            return math::LogOp::create(b, loc, v).getResult();
          if (opName == "Cos")
            return math::CosOp::create(b, loc, v).getResult();
          if (opName == "Sin")
            return math::SinOp::create(b, loc, v).getResult();
          if (opName == "Abs")
            return math::AbsFOp::create(b, loc, v).getResult();
          if (opName == "Floor")
            return math::FloorOp::create(b, loc, v).getResult();
          if (opName == "Ceil")
            return math::CeilOp::create(b, loc, v).getResult();
          if (opName == "Reciprocal")
            return arith::DivFOp::create(b, loc, fconst(1.0), v).getResult();
          if (opName == "Relu")
            return arith::MaximumFOp::create(b, loc, v, fconst(0.0))
                .getResult();
          if (opName == "IsNaN")
            return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, v,
                                         v)
                .getResult();
          // Sigmoid: 1 / (1 + exp(-x)).
          Value e =
              math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, v));
          Value d = arith::AddFOp::create(b, loc, fconst(1.0), e);
          return arith::DivFOp::create(b, loc, fconst(1.0), d).getResult();
        }));
  }

  if (op == "Cast") {
    Value x = value(0);
    int32_t to = int32_t(attrs.i("to", 1));
    Type toType = elemTypeSize(to) ? mlirType(to) : Type();
    if (!toType)
      return nodeError(node) << "cast to unsupported type " << elemTypeName(to);
    Type from = elemOf(x);
    if (from == toType)
      return setOut(x);
    return setOut(elementwise(
        {x}, shapeOf(x), toType, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value v = a[0];
          bool fromF = isa<FloatType>(from), toF = isa<FloatType>(toType);
          if (fromF && toF)
            return from.getIntOrFloatBitWidth() < toType.getIntOrFloatBitWidth()
                       ? arith::ExtFOp::create(b, loc, toType, v).getResult()
                       : arith::TruncFOp::create(b, loc, toType, v).getResult();
          if (fromF)
            return toType.isInteger(1)
                       ? arith::CmpFOp::create(
                             b, loc, arith::CmpFPredicate::UNE, v,
                             arith::ConstantOp::create(
                                 b, loc, b.getFloatAttr(from, 0.0)))
                             .getResult()
                       : arith::FPToSIOp::create(b, loc, toType, v).getResult();
          if (toF)
            return from.isInteger(1)
                       ? arith::UIToFPOp::create(b, loc, toType, v).getResult()
                       : arith::SIToFPOp::create(b, loc, toType, v).getResult();
          unsigned fw = from.getIntOrFloatBitWidth(),
                   tw = toType.getIntOrFloatBitWidth();
          if (tw == 1)
            return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, v,
                                         arith::ConstantOp::create(
                                             b, loc, b.getIntegerAttr(from, 0)))
                .getResult();
          if (fw < tw)
            return fw == 1
                       ? arith::ExtUIOp::create(b, loc, toType, v).getResult()
                       : arith::ExtSIOp::create(b, loc, toType, v).getResult();
          return arith::TruncIOp::create(b, loc, toType, v).getResult();
        }));
  }

  if (op == "ReduceMean" || op == "ReduceSum" || op == "ReduceMax") {
    Value x = value(0);
    int64_t rank = shapeOf(x).size();
    SmallVector<int64_t> axes;
    bool axesAsInput = opset >= 18 || op == "ReduceSum";
    if (axesAsInput && ins.size() > 1 && ins[1]) {
      const HostTensor *a = requireConst(1, "axes");
      if (!a)
        return failure();
      for (int64_t k = 0; k < a->numElements(); ++k)
        axes.push_back(a->getI(k));
    } else if (auto a = attrs.ints("axes")) {
      axes = *a;
    }
    if (axes.empty()) {
      if (attrs.i("noop_with_empty_axes", 0))
        return setOut(x);
      for (int64_t k = 0; k < rank; ++k)
        axes.push_back(k);
    }
    for (int64_t &a : axes) {
      a = normAxis(a, rank);
      if (a < 0)
        return nodeError(node) << "axis out of range for rank " << rank;
    }
    if (!isa<FloatType>(elemOf(x)))
      return nodeError(node) << "reductions of integer run-time values are "
                                "not supported";
    std::string kind = op == "ReduceMean"  ? "mean"
                       : op == "ReduceSum" ? "sum"
                                           : "max";
    return setOut(reduce(x, axes, attrs.i("keepdims", 1), kind));
  }

  if (op == "Softmax") {
    Value x = value(0);
    int64_t rank = shapeOf(x).size();
    int64_t axis = normAxis(attrs.i("axis", -1), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range for rank " << rank;
    // exp(x - max) / sum(exp(x - max)), written out: linalg.softmax only
    // decomposes through the transform dialect, and this way every op of
    // the imported program lowers with ordinary passes.
    SmallVector<int64_t> xs = shapeOf(x);
    auto ft = cast<FloatType>(elemOf(x));
    if (keyMask && axis == rank - 1 && xs[axis] == options.keyMaskLength) {
      // Cache slots without a token get -inf before the softmax (see
      // OnnxImportOptions::keyMaskLength).
      Value mask = keyMask;
      if (!ft.isF32())
        mask = elementwise(
            {keyMask}, {options.keyMaskLength}, ft,
            [&](OpBuilder &b, Location loc, ValueRange a) {
              return arith::TruncFOp::create(b, loc, ft, a[0]).getResult();
            });
      x = elementwise(
          {x, mask}, xs, ft, [](OpBuilder &b, Location loc, ValueRange a) {
            return arith::AddFOp::create(b, loc, a[0], a[1]).getResult();
          });
      ++maskedSoftmaxes;
    }
    Value max = reduce(x, {axis}, /*keepDims=*/true, "max");
    Value e = elementwise({x, max}, xs, ft,
                          [](OpBuilder &b, Location loc, ValueRange a) {
                            Value d = arith::SubFOp::create(b, loc, a[0], a[1]);
                            return math::ExpOp::create(b, loc, d).getResult();
                          });
    Value sum = reduce(e, {axis}, /*keepDims=*/true, "sum");
    return setOut(elementwise(
        {e, sum}, xs, ft, [](OpBuilder &b, Location loc, ValueRange a) {
          return arith::DivFOp::create(b, loc, a[0], a[1]).getResult();
        }));
  }

  if (op == "Transpose") {
    Value x = value(0);
    int64_t rank = shapeOf(x).size();
    SmallVector<int64_t> perm;
    if (auto p = attrs.ints("perm"))
      perm = *p;
    else
      for (int64_t k = rank - 1; k >= 0; --k)
        perm.push_back(k);
    if (int64_t(perm.size()) != rank)
      return nodeError(node) << "perm has " << perm.size()
                             << " entries for an input of rank " << rank;
    return setOut(transpose(x, perm));
  }

  if (op == "Reshape" || op == "Unsqueeze" || op == "Squeeze" ||
      op == "Flatten") {
    Value x = value(0);
    SmallVector<int64_t> xs = shapeOf(x);
    // Compute the output shape by folding a data-free stand-in.
    HostTensor standIn;
    standIn.type = int32_t(ElemType::Int64);
    standIn.shape = xs;
    standIn.i.assign(size_t(standIn.numElements()), 0);
    SmallVector<HostTensor *> fakeIns = {&standIn};
    if (op != "Flatten" && !(op == "Squeeze" && (ins.size() < 2 || !ins[1]))) {
      const HostTensor *second =
          requireConst(1, op == "Reshape" ? "shape" : "axes");
      if (!second)
        return failure();
      fakeIns.push_back(const_cast<HostTensor *>(second));
    }
    bool folded = false;
    std::string out0 = node.output(0);
    if (failed(foldNode(node, fakeIns, folded)))
      return failure();
    SmallVector<int64_t> shape = slots[out0].constant->shape;
    slots[out0].constant.reset();
    return setOut(reshape(x, shape));
  }

  if (op == "Concat") {
    SmallVector<Value> vs;
    for (size_t k = 0; k < ins.size(); ++k)
      vs.push_back(value(k));
    int64_t rank = shapeOf(vs[0]).size();
    int64_t axis = normAxis(attrs.i("axis", 0), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range for rank " << rank;
    // Empty inputs (a zero-length past) contribute nothing.
    SmallVector<Value> nonEmpty;
    for (Value v : vs)
      if (shapeOf(v)[axis] != 0)
        nonEmpty.push_back(v);
    if (nonEmpty.empty())
      return setOut(vs[0]);
    if (nonEmpty.size() == 1)
      return setOut(nonEmpty[0]);
    return setOut(tensor::ConcatOp::create(builder, fileLoc, axis, nonEmpty));
  }

  if (op == "Slice") {
    Value x = value(0);
    const HostTensor *starts = requireConst(1, "starts");
    const HostTensor *ends = starts ? requireConst(2, "ends") : nullptr;
    if (!ends)
      return failure();
    const HostTensor *axes =
        ins.size() > 3 && ins[3] ? requireConst(3, "axes") : nullptr;
    const HostTensor *steps =
        ins.size() > 4 && ins[4] ? requireConst(4, "steps") : nullptr;
    auto spec = resolveSlice(shapeOf(x), *starts, *ends, axes, steps, why);
    if (failed(spec))
      return nodeError(node) << why;
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (size_t k = 0; k < spec->starts.size(); ++k) {
      offsets.push_back(builder.getIndexAttr(spec->starts[k]));
      sizes.push_back(builder.getIndexAttr(spec->sizes[k]));
      strides.push_back(builder.getIndexAttr(spec->steps[k]));
    }
    auto type = RankedTensorType::get(spec->sizes, elemOf(x));
    return setOut(tensor::ExtractSliceOp::create(builder, fileLoc, type, x,
                                                 offsets, sizes, strides));
  }

  if (op == "Split") {
    Value x = value(0);
    SmallVector<int64_t> xs = shapeOf(x);
    int64_t axis = normAxis(attrs.i("axis", 0), xs.size());
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    SmallVector<int64_t> sizes;
    if (ins.size() > 1 && ins[1]) {
      const HostTensor *s = requireConst(1, "split");
      if (!s)
        return failure();
      for (int64_t k = 0; k < s->numElements(); ++k)
        sizes.push_back(s->getI(k));
    } else {
      int64_t parts = attrs.i("num_outputs", node.output_size());
      int64_t each = (xs[axis] + parts - 1) / parts;
      for (int64_t k = 0, left = xs[axis]; k < parts; ++k, left -= each)
        sizes.push_back(std::min(each, left));
    }
    if (int64_t(sizes.size()) != node.output_size())
      return nodeError(node)
             << "split into " << sizes.size() << " parts but the node has "
             << node.output_size() << " outputs";
    int64_t offset = 0;
    for (auto [k, size] : llvm::enumerate(sizes)) {
      SmallVector<OpFoldResult> offsets, szs, strides;
      SmallVector<int64_t> shape = xs;
      shape[axis] = size;
      for (size_t d = 0; d < xs.size(); ++d) {
        offsets.push_back(
            builder.getIndexAttr(int64_t(d) == axis ? offset : 0));
        szs.push_back(builder.getIndexAttr(shape[d]));
        strides.push_back(builder.getIndexAttr(1));
      }
      auto type = RankedTensorType::get(shape, elemOf(x));
      (void)setOut(tensor::ExtractSliceOp::create(builder, fileLoc, type, x,
                                                  offsets, szs, strides),
                   k);
      offset += size;
    }
    return success();
  }

  if (op == "Expand") {
    Value x = value(0);
    const HostTensor *t = requireConst(1, "shape");
    if (!t)
      return failure();
    SmallVector<int64_t> target;
    for (int64_t k = 0; k < t->numElements(); ++k)
      target.push_back(t->getI(k));
    auto shape = broadcastShapes(shapeOf(x), target);
    if (!shape)
      return nodeError(node) << "cannot expand the input to the target shape";
    if (*shape == shapeOf(x))
      return setOut(x);
    return setOut(
        elementwise({x}, *shape, elemOf(x),
                    [](OpBuilder &, Location, ValueRange a) { return a[0]; }));
  }

  if (op == "Gather") {
    Value data = value(0), indices = value(1);
    SmallVector<int64_t> ds = shapeOf(data), is = shapeOf(indices);
    int64_t axis = normAxis(attrs.i("axis", 0), ds.size());
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    SmallVector<int64_t> out(ds.begin(), ds.begin() + axis);
    out.append(is.begin(), is.end());
    out.append(ds.begin() + axis + 1, ds.end());
    int64_t rank = out.size(), ri = is.size();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t k = 0; k < ri; ++k)
      idxExprs.push_back(builder.getAffineDimExpr(axis + k));
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, idxExprs, &context),
                                   builder.getMultiDimIdentityMap(rank)};
    Value init = tensor::EmptyOp::create(builder, fileLoc, out, elemOf(data));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    int64_t dim = ds[axis];
    auto generic = linalg::GenericOp::create(
        builder, fileLoc, TypeRange{init.getType()}, ValueRange{indices},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value idx =
              arith::IndexCastOp::create(b, loc, b.getIndexType(), args[0]);
          // Negative indices count from the end.
          Value zero = arith::ConstantIndexOp::create(b, loc, 0);
          Value size = arith::ConstantIndexOp::create(b, loc, dim);
          Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                            idx, zero);
          Value wrapped = arith::AddIOp::create(b, loc, idx, size);
          idx = arith::SelectOp::create(b, loc, neg, wrapped, idx);
          SmallVector<Value> at;
          for (int64_t k = 0; k < axis; ++k)
            at.push_back(linalg::IndexOp::create(b, loc, k));
          at.push_back(idx);
          for (int64_t k = axis + 1; k < int64_t(ds.size()); ++k)
            at.push_back(linalg::IndexOp::create(b, loc, k - 1 + ri));
          Value v = tensor::ExtractOp::create(b, loc, data, at);
          linalg::YieldOp::create(b, loc, v);
        });
    return setOut(generic.getResult(0));
  }

  if (op == "LayerNormalization") {
    Value x = value(0), scale = value(1);
    SmallVector<int64_t> xs = shapeOf(x);
    int64_t rank = xs.size();
    int64_t axis = normAxis(attrs.i("axis", -1), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    if (node.output_size() > 1)
      for (int k = 1; k < node.output_size(); ++k)
        if (!node.output(k).empty())
          return nodeError(node) << "the optional Mean and InvStdDev outputs "
                                    "are not supported";
    SmallVector<int64_t> axes;
    for (int64_t k = axis; k < rank; ++k)
      axes.push_back(k);
    double eps = attrs.f("epsilon", 1e-5f);
    auto ft = cast<FloatType>(elemOf(x));
    Value mean = reduce(x, axes, /*keepDims=*/true, "mean");
    auto sub = [&](OpBuilder &b, Location loc, ValueRange a) {
      return arith::SubFOp::create(b, loc, a[0], a[1]).getResult();
    };
    Value centered = elementwise({x, mean}, xs, ft, sub);
    Value sq = elementwise(
        {centered}, xs, ft, [](OpBuilder &b, Location loc, ValueRange a) {
          return arith::MulFOp::create(b, loc, a[0], a[0]).getResult();
        });
    Value var = reduce(sq, axes, /*keepDims=*/true, "mean");
    Value norm = elementwise(
        {centered, var}, xs, ft, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value e = arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, eps));
          Value s = math::SqrtOp::create(
              b, loc, arith::AddFOp::create(b, loc, a[1], e));
          return arith::DivFOp::create(b, loc, a[0], s).getResult();
        });
    SmallVector<Value> affine = {norm, scale};
    if (ins.size() > 2 && ins[2])
      affine.push_back(value(2));
    return setOut(elementwise(
        affine, xs, ft, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value y = arith::MulFOp::create(b, loc, a[0], a[1]);
          if (a.size() > 2)
            y = arith::AddFOp::create(b, loc, y, a[2]);
          return y;
        }));
  }

  if (op == "SimplifiedLayerNormalization") {
    // RMSNorm as one op: x / sqrt(mean(x², axes >= axis) + eps) · scale.
    Value x = value(0), scale = value(1);
    SmallVector<int64_t> xs = shapeOf(x);
    int64_t rank = xs.size();
    int64_t axis = normAxis(attrs.i("axis", -1), rank);
    if (axis < 0)
      return nodeError(node) << "axis out of range";
    for (int k = 1; k < node.output_size(); ++k)
      if (!node.output(k).empty())
        return nodeError(node) << "the optional inv_std_var output is not "
                                  "supported";
    SmallVector<int64_t> axes;
    for (int64_t k = axis; k < rank; ++k)
      axes.push_back(k);
    auto ft = cast<FloatType>(elemOf(x));
    double eps = attrs.f("epsilon", 1e-5f);
    Value sq =
        elementwise({x}, xs, ft, [](OpBuilder &b, Location loc, ValueRange a) {
          return arith::MulFOp::create(b, loc, a[0], a[0]).getResult();
        });
    Value ms = reduce(sq, axes, /*keepDims=*/true, "mean");
    return setOut(elementwise(
        {x, ms, scale}, xs, ft, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value e = arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, eps));
          Value r = math::SqrtOp::create(
              b, loc, arith::AddFOp::create(b, loc, a[1], e));
          Value n = arith::DivFOp::create(b, loc, a[0], r);
          return arith::MulFOp::create(b, loc, n, a[2]).getResult();
        }));
  }

  if (op == "Gelu") {
    // Opset 20: exact 0.5·x·(1 + erf(x/√2)), or the tanh approximation
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    Value x = value(0);
    std::string approximate = attrs.s("approximate", "none");
    if (approximate != "none" && approximate != "tanh")
      return nodeError(node) << "unsupported approximate='" << approximate
                             << "'; expected none or tanh";
    auto ft = cast<FloatType>(elemOf(x));
    bool useTanh = approximate == "tanh";
    return setOut(elementwise(
        {x}, shapeOf(x), ft, [&](OpBuilder &b, Location loc, ValueRange a) {
          auto c = [&](double v) {
            return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
          };
          Value v = a[0], inner;
          if (useTanh) {
            Value cube = arith::MulFOp::create(
                b, loc, v, arith::MulFOp::create(b, loc, v, v));
            Value sum = arith::AddFOp::create(
                b, loc, v, arith::MulFOp::create(b, loc, c(0.044715), cube));
            inner = math::TanhOp::create(
                b, loc,
                arith::MulFOp::create(b, loc, c(std::sqrt(2.0 / M_PI)), sum));
          } else {
            inner = math::ErfOp::create(
                b, loc, arith::MulFOp::create(b, loc, v, c(M_SQRT1_2)));
          }
          Value onePlus = arith::AddFOp::create(b, loc, c(1.0), inner);
          Value half = arith::MulFOp::create(b, loc, c(0.5), v);
          return arith::MulFOp::create(b, loc, half, onePlus).getResult();
        }));
  }

  if (op == "Trilu") {
    Value x = value(0);
    SmallVector<int64_t> xs = shapeOf(x);
    int64_t k = 0;
    if (ins.size() > 1 && ins[1]) {
      const HostTensor *kt = requireConst(1, "k");
      if (!kt)
        return failure();
      k = kt->getI(0);
    }
    bool upper = attrs.i("upper", 1);
    int64_t rank = xs.size();
    Type elem = elemOf(x);
    return setOut(elementwise(
        {x}, xs, elem, [&](OpBuilder &b, Location loc, ValueRange a) {
          Value r = linalg::IndexOp::create(b, loc, rank - 2);
          Value c = linalg::IndexOp::create(b, loc, rank - 1);
          Value diff = arith::SubIOp::create(b, loc, c, r);
          Value kk = arith::ConstantIndexOp::create(b, loc, k);
          Value keep = arith::CmpIOp::create(b, loc,
                                             upper ? arith::CmpIPredicate::sge
                                                   : arith::CmpIPredicate::sle,
                                             diff, kk);
          Value zero =
              isa<FloatType>(elem)
                  ? arith::ConstantOp::create(b, loc, b.getFloatAttr(elem, 0.0))
                        .getResult()
                  : arith::ConstantOp::create(b, loc, b.getIntegerAttr(elem, 0))
                        .getResult();
          return arith::SelectOp::create(b, loc, keep, a[0], zero).getResult();
        }));
  }

  return nodeError(node) << "unsupported op '" << op
                         << "' (or unsupported on run-time data); see "
                            "docs/onnx-frontend.md for the supported ops";
}

//===----------------------------------------------------------------------===//
// Graph
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGraph(func::FuncOp func) {
  const ::onnx::GraphProto &graph = model.graph();
  entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  unsigned argIndex = 0;
  for (const auto &input : graph.input()) {
    if (slots.count(input.name()))
      continue; // an initializer listed as an input (old IR versions)
    slots[input.name()].value = entry->getArgument(argIndex++);
  }
  if (options.keyMaskLength > 0)
    keyMask = entry->getArgument(argIndex++);
  for (const auto &node : graph.node()) {
    if (failed(importNode(node)))
      return failure();
    ++nodeIndex;
  }
  SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    auto it = slots.find(output.name());
    if (it == slots.end())
      return error() << "graph output '" << output.name()
                     << "' is not produced by any node";
    results.push_back(materialize(it->second));
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(builder.getFunctionType(func.getArgumentTypes(),
                                               ValueRange(results).getTypes()));
  return success();
}

FailureOr<OwningOpRef<ModuleOp>> Importer::run() {
  if (failed(loadModel()))
    return failure();
  if (failed(importInitializers()))
    return failure();

  // Graph inputs with static shapes.
  const ::onnx::GraphProto &graph = model.graph();
  SmallVector<Type> argTypes;
  for (const auto &input : graph.input()) {
    if (slots.count(input.name()))
      continue;
    if (!input.type().has_tensor_type())
      return error() << "graph input '" << input.name()
                     << "' is not a tensor; only tensor inputs are supported";
    const auto &tt = input.type().tensor_type();
    if (!mlirType(tt.elem_type()) || elemTypeSize(tt.elem_type()) == 0)
      return error() << "graph input '" << input.name()
                     << "' has unsupported element type "
                     << elemTypeName(tt.elem_type());
    SmallVector<int64_t> shape;
    for (const auto &dim : tt.shape().dim()) {
      if (dim.has_dim_value()) {
        shape.push_back(dim.dim_value());
        continue;
      }
      auto it = options.dimSizes.find(dim.dim_param());
      if (it == options.dimSizes.end())
        return error() << "graph input '" << input.name()
                       << "' has the symbolic dimension '"
                       << (dim.dim_param().empty() ? std::string("?")
                                                   : dim.dim_param())
                       << "' with no size, so its shape cannot be made "
                          "static; pass --dim "
                       << (dim.dim_param().empty() ? std::string("NAME")
                                                   : dim.dim_param())
                       << "=N";
      shape.push_back(it->second);
    }
    argTypes.push_back(tensorType(shape, tt.elem_type()));
  }
  if (options.keyMaskLength > 0)
    argTypes.push_back(
        RankedTensorType::get({options.keyMaskLength}, builder.getF32Type()));

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module->getOperation()->setAttr(
      ternary::TernaryDialect::getArchiveAttrName(),
      builder.getStringAttr(options.archiveRef.empty() ? options.archivePath
                                                       : options.archiveRef));
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, options.functionName,
                                   builder.getFunctionType(argTypes, {}));
  if (failed(importGraph(func)))
    return failure();
  if (options.keyMaskLength > 0 && maskedSoftmaxes == 0)
    return error() << "no Softmax reduces a last axis of length "
                   << options.keyMaskLength
                   << ", so the key mask has nothing to mask; is this a "
                      "decoder whose attention spans the past plus the new "
                      "tokens?";

  char err[TRT_ERROR_MESSAGE_SIZE];
  if (writer && trt_writer_finish(writer, err, sizeof(err)) != TRT_OK)
    return error() << "cannot finish the parameter archive: " << err;
  return module;
}

FailureOr<OnnxModelInfo> Importer::describe() {
  if (failed(loadModel()))
    return failure();
  const ::onnx::GraphProto &graph = model.graph();
  llvm::StringSet<> initializers;
  for (const auto &t : graph.initializer())
    initializers.insert(t.name());
  auto convert = [](const ::onnx::ValueInfoProto &v) {
    OnnxValueInfo info;
    info.name = v.name();
    if (v.type().has_tensor_type()) {
      const auto &tt = v.type().tensor_type();
      info.elemType = tt.elem_type();
      for (const auto &d : tt.shape().dim()) {
        info.dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
        info.dimNames.push_back(d.has_dim_value() ? "" : d.dim_param());
      }
    }
    return info;
  };
  OnnxModelInfo info;
  for (const auto &input : graph.input())
    if (!initializers.contains(input.name()))
      info.inputs.push_back(convert(input));
  for (const auto &output : graph.output())
    info.outputs.push_back(convert(output));
  for (const auto &prop : model.metadata_props())
    info.metadata[prop.key()] = prop.value();
  return info;
}

FailureOr<OnnxModelInfo>
mlir::terminator::describeOnnxModel(MLIRContext &context, StringRef path) {
  Importer importer(context, path, OnnxImportOptions());
  return importer.describe();
}

FailureOr<OwningOpRef<ModuleOp>>
mlir::terminator::importOnnxModel(MLIRContext &context, StringRef path,
                                  const OnnxImportOptions &options) {
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect,
                      tensor::TensorDialect, ternary::TernaryDialect>();
  Importer importer(context, path, options);
  return importer.run();
}

void mlir::terminator::registerOnnxImportDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, tensor::TensorDialect,
                  ternary::TernaryDialect>();
}
