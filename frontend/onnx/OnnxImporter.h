//===- OnnxImporter.h - ONNX to the ternary dialect -------------*- C++ -*-===//
//
// Part of TerMinator. The only code that links protobuf and ONNX.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_FRONTEND_ONNX_ONNXIMPORTER_H
#define TERMINATOR_FRONTEND_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir::terminator {

/// How to import one ONNX model.
struct OnnxImportOptions {
  /// Where the weights go (a `.tpar` parameter archive). Written atomically.
  /// Empty: write no archive (the module still names its entries), for a
  /// second specialization of a model whose archive exists already.
  std::string archivePath;
  /// The archive path recorded in the module's `ternary.archive` attribute
  /// (defaults to `archivePath`).
  std::string archiveRef;
  /// Sizes of the symbolic input dimensions, by name (`sequence_length=7`).
  /// Every symbolic dimension of a graph input needs one: the imported
  /// program has static shapes.
  llvm::StringMap<int64_t> dimSizes;
  /// Name of the function that holds the graph.
  std::string functionName = "main";
  /// Initializers with at most this many elements, and all integer ones, are
  /// kept as compile-time constants (shape arithmetic folds through them);
  /// larger floating-point ones go to the archive.
  int64_t inlineLimit = 64;
  /// Non-zero: the function gets a last argument `key_mask : tensor<L x f32>`
  /// (L = keyMaskLength), added to the input of every Softmax over a last
  /// axis of length L. With a KV cache of fixed length L, it masks the cache
  /// slots that hold no token yet (0 = attend, -inf = skip), so one compiled
  /// decode step serves every past length. See docs/onnx-frontend.md.
  int64_t keyMaskLength = 0;
};

/// Imports the ONNX model at `path`: linear layers (MatMul or Gemm with a
/// constant weight) become `ternary.linear` on `ternary.weight
/// #ternary.param<...>`, everything else linalg, tensor, arith and math on
/// static shapes. Writes the weights to `options.archivePath`. Diagnostics go
/// to the context's handler; on failure no archive is left behind.
FailureOr<OwningOpRef<ModuleOp>>
importOnnxModel(MLIRContext &context, llvm::StringRef path,
                const OnnxImportOptions &options);

/// A graph input or output as the ONNX file declares it.
struct OnnxValueInfo {
  std::string name;
  /// The ONNX element type (onnx::TensorProto::DataType).
  int32_t elemType = 0;
  /// Sizes; -1 where the dimension is symbolic (named in `dimNames`).
  llvm::SmallVector<int64_t> dims;
  llvm::SmallVector<std::string> dimNames;
};

/// The interface and metadata of an ONNX model, without importing it.
struct OnnxModelInfo {
  std::vector<OnnxValueInfo> inputs, outputs;
  /// model.metadata_props.
  llvm::StringMap<std::string> metadata;
};

/// Reads the interface of the ONNX model at `path` (inputs that are not
/// initializers, outputs, metadata). Errors go to the context's handler.
FailureOr<OnnxModelInfo> describeOnnxModel(MLIRContext &context,
                                           llvm::StringRef path);

/// Registers the dialects the importer produces.
void registerOnnxImportDialects(DialectRegistry &registry);

} // namespace mlir::terminator

#endif // TERMINATOR_FRONTEND_ONNX_ONNXIMPORTER_H
