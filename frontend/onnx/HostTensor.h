//===- HostTensor.h - compile-time tensors for shape folding ----*- C++ -*-===//
//
// Part of TerMinator. The shape subgraphs that exporters emit (Shape, Gather,
// Concat, Range, Where, ...) are evaluated at import time on these small
// tensors, so that the imported program has static shapes.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_FRONTEND_ONNX_HOSTTENSOR_H
#define TERMINATOR_FRONTEND_ONNX_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace terminator::onnx {

/// ONNX element types the importer knows (values of TensorProto.DataType).
enum class ElemType : int32_t {
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  BFloat16 = 16,
};

/// Bytes of one element of `type`, or 0 for a type the importer rejects.
unsigned elemTypeSize(int32_t type);
/// Lower-case name (`float`, `int64`, ...), or `type N`.
std::string elemTypeName(int32_t type);
/// Whether values of `type` are held as floating point on the host.
bool isFloatType(int32_t type);

/// A small dense tensor known at import time.
struct HostTensor {
  int32_t type = int32_t(ElemType::Float);
  llvm::SmallVector<int64_t> shape;
  /// Values of floating-point tensors.
  std::vector<double> f;
  /// Values of integer and boolean tensors.
  std::vector<int64_t> i;

  bool isFloat() const { return isFloatType(type); }
  int64_t numElements() const;
  double getF(int64_t k) const { return isFloat() ? f[k] : double(i[k]); }
  int64_t getI(int64_t k) const { return isFloat() ? int64_t(f[k]) : i[k]; }
  /// Resizes the value storage to `numElements()`.
  void allocate();
  static HostTensor ints(llvm::ArrayRef<int64_t> values,
                         int32_t type = int32_t(ElemType::Int64));
  static HostTensor scalar(double v, int32_t type);
};

/// Numpy-style broadcast of two shapes; nullopt if they do not broadcast.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<int64_t> a, llvm::ArrayRef<int64_t> b);

/// Calls `fn(outIndex, inIndices)` for every element of `outShape`, with the
/// linear index into each input of `inShapes` under numpy broadcasting.
void forEachBroadcast(
    llvm::ArrayRef<int64_t> outShape,
    llvm::ArrayRef<llvm::SmallVector<int64_t>> inShapes,
    const std::function<void(int64_t, llvm::ArrayRef<int64_t>)> &fn);

/// Row-major strides of `shape`.
llvm::SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> shape);

} // namespace terminator::onnx

#endif // TERMINATOR_FRONTEND_ONNX_HOSTTENSOR_H
