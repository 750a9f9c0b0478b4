//===- HostTensor.cpp - compile-time ONNX tensors for shape folding -------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/HostTensor.h"

namespace terminator::onnx {

unsigned elemTypeSize(int32_t type) {
  switch (ElemType(type)) {
  case ElemType::Float:
  case ElemType::Int32:
    return 4;
  case ElemType::UInt8:
  case ElemType::Int8:
  case ElemType::Bool:
    return 1;
  case ElemType::Int64:
  case ElemType::Double:
    return 8;
  case ElemType::Float16:
  case ElemType::BFloat16:
    return 2;
  }
  return 0;
}

std::string elemTypeName(int32_t type) {
  switch (ElemType(type)) {
  case ElemType::Float:
    return "float";
  case ElemType::UInt8:
    return "uint8";
  case ElemType::Int8:
    return "int8";
  case ElemType::Int32:
    return "int32";
  case ElemType::Int64:
    return "int64";
  case ElemType::Bool:
    return "bool";
  case ElemType::Float16:
    return "float16";
  case ElemType::Double:
    return "double";
  case ElemType::BFloat16:
    return "bfloat16";
  }
  return "type " + std::to_string(type);
}

bool isFloatType(int32_t type) {
  return type == int32_t(ElemType::Float) ||
         type == int32_t(ElemType::Double) ||
         type == int32_t(ElemType::Float16) ||
         type == int32_t(ElemType::BFloat16);
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

void HostTensor::allocate() {
  if (isFloat())
    f.assign(size_t(numElements()), 0.0);
  else
    i.assign(size_t(numElements()), 0);
}

HostTensor HostTensor::ints(llvm::ArrayRef<int64_t> values, int32_t type) {
  HostTensor t;
  t.type = type;
  t.shape = {int64_t(values.size())};
  t.i.assign(values.begin(), values.end());
  return t;
}

HostTensor HostTensor::scalar(double v, int32_t type) {
  HostTensor t;
  t.type = type;
  if (t.isFloat())
    t.f = {v};
  else
    t.i = {int64_t(v)};
  return t;
}

std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  llvm::SmallVector<int64_t> out(rank);
  for (size_t k = 0; k < rank; ++k) {
    int64_t da = k < rank - a.size() ? 1 : a[k - (rank - a.size())];
    int64_t db = k < rank - b.size() ? 1 : b[k - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[k] = da == 1 ? db : da;
  }
  return out;
}

llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape) {
  llvm::SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t k = int64_t(shape.size()) - 2; k >= 0; --k)
    strides[k] = strides[k + 1] * shape[k + 1];
  return strides;
}

void forEachBroadcast(
    llvm::ArrayRef<int64_t> outShape,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> inShapes,
    const std::function<void(int64_t, llvm::ArrayRef<int64_t>)> &fn) {
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  size_t rank = outShape.size();
  llvm::SmallVector<llvm::SmallVector<int64_t>> inStrides;
  for (const auto &s : inShapes) {
    // Stride 0 along broadcast dimensions, aligned to the right.
    llvm::SmallVector<int64_t> strides(rank, 0);
    llvm::SmallVector<int64_t> own = stridesOf(s);
    for (size_t k = 0; k < s.size(); ++k)
      if (s[k] != 1)
        strides[rank - s.size() + k] = own[k];
    inStrides.push_back(strides);
  }
  llvm::SmallVector<int64_t> index(rank, 0), in(inShapes.size(), 0);
  for (int64_t o = 0; o < total; ++o) {
    for (size_t t = 0; t < inShapes.size(); ++t) {
      int64_t lin = 0;
      for (size_t k = 0; k < rank; ++k)
        lin += index[k] * inStrides[t][k];
      in[t] = lin;
    }
    fn(o, in);
    for (int64_t k = int64_t(rank) - 1; k >= 0; --k) {
      if (++index[k] < outShape[k])
        break;
      index[k] = 0;
    }
  }
}

} // namespace terminator::onnx
