//===- TernaryOps.cpp - ternary dialect operations ------------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::ternary;

/// Prints a shape as `[2, ?, 64]`.
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

/// Whether two dimensions agree (a dynamic dimension agrees with anything).
static bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Checks that `other` (named `what`) is `[..., features]` with the leading
/// dimensions of the activation `input` `[..., K]`.
static LogicalResult verifyTokenShape(Operation *op, RankedTensorType input,
                                      RankedTensorType other, StringRef what,
                                      int64_t features) {
  if (input.getRank() < 1)
    return op->emitOpError("expects an input of rank >= 1 with the features "
                           "last, but got rank 0");
  if (other.getRank() != input.getRank())
    return op->emitOpError("expects ")
           << what << " of rank " << input.getRank()
           << " like the input, but got rank " << other.getRank();
  for (int64_t d = 0, e = input.getRank() - 1; d < e; ++d)
    if (!dimsAgree(input.getDimSize(d), other.getDimSize(d)))
      return op->emitOpError("expects ")
             << what << " dimension " << d << " to be " << input.getDimSize(d)
             << " as in the input, but got " << other.getDimSize(d);
  if (!dimsAgree(other.getShape().back(), features))
    return op->emitOpError("expects ")
           << what << " to have " << features
           << " features in its last dimension, but got "
           << other.getShape().back();
  return success();
}

/// Checks a `[rows, cols]` operand.
static LogicalResult verifyMatrixShape(Operation *op, RankedTensorType type,
                                       StringRef what, int64_t rows,
                                       int64_t cols) {
  if (type.getRank() != 2 || !dimsAgree(type.getDimSize(0), rows) ||
      !dimsAgree(type.getDimSize(1), cols))
    return op->emitOpError("expects ")
           << what << " of shape " << formatShape({rows, cols}) << ", but got "
           << formatShape(type.getShape());
  return success();
}

/// Checks an optional bias `[N]` of element type `elementType`.
static LogicalResult verifyBias(Operation *op, Value bias, int64_t n,
                                Type elementType) {
  if (!bias)
    return success();
  auto type = cast<RankedTensorType>(bias.getType());
  if (type.getRank() != 1 || !dimsAgree(type.getDimSize(0), n))
    return op->emitOpError("expects a bias of shape ")
           << formatShape({n}) << ", but got " << formatShape(type.getShape());
  if (type.getElementType() != elementType)
    return op->emitOpError("expects bias element type ")
           << elementType << " like the input, but got "
           << type.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType weightType = getWeight().getType();
  RankedTensorType resultType = getResult().getType();
  if (weightType.getRank() != 2)
    return emitOpError("expects a weight of rank 2 [N, K], but got rank ")
           << weightType.getRank();
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  if (inputType.getRank() < 1 || !dimsAgree(inputType.getShape().back(), k))
    return emitOpError("expects an input with ")
           << k << " features (the weight's columns) in its last dimension, "
           << "but got shape " << formatShape(inputType.getShape());
  Type elementType = inputType.getElementType();
  if (weightType.getElementType() != elementType ||
      resultType.getElementType() != elementType)
    return emitOpError("expects input, weight and result to share one "
                       "element type, but got ")
           << elementType << ", " << weightType.getElementType() << " and "
           << resultType.getElementType();
  if (failed(verifyBias(*this, getBias(), n, elementType)))
    return failure();
  return verifyTokenShape(*this, inputType, resultType, "a result", n);
}

//===----------------------------------------------------------------------===//
// QLinearOp
//===----------------------------------------------------------------------===//

LogicalResult QLinearOp::verify() {
  WeightEncodingAttrInterface encoding = getEncoding();
  RankedTensorType inputType = getInput().getType();
  RankedTensorType codesType = getCodes().getType();
  RankedTensorType resultType = getResult().getType();
  if (codesType.getRank() != 2)
    return emitOpError("expects codes of rank 2 [N, K], but got rank ")
           << codesType.getRank();
  int64_t n = codesType.getDimSize(0), k = codesType.getDimSize(1);
  if (inputType.getRank() < 1 || !dimsAgree(inputType.getShape().back(), k))
    return emitOpError("expects an input with ")
           << k << " features (the codes' columns) in its last dimension, "
           << "but got shape " << formatShape(inputType.getShape());
  Type elementType = inputType.getElementType();
  if (resultType.getElementType() != elementType)
    return emitOpError("expects result element type ")
           << elementType << " like the input, but got "
           << resultType.getElementType();

  // Codes: the encoding's floats, or i8 holding the integer codes.
  Type codeType = codesType.getElementType();
  if (auto floatEncoding = dyn_cast<FloatEncodingAttr>(encoding)) {
    if (codeType != floatEncoding.getType())
      return emitOpError("expects ")
             << floatEncoding.getType() << " weights for encoding " << encoding
             << ", but got element type " << codeType;
  } else if (!codeType.isSignlessInteger(8)) {
    return emitOpError("expects i8 codes for encoding ")
           << encoding << ", but got element type " << codeType;
  }

  // Scales and offsets: [N, G] of the encoding's scale type, or absent.
  FloatType scaleType = encoding.getScaleType();
  int64_t groups = ShapedType::isDynamic(k) ? ShapedType::kDynamic
                                            : encoding.getGroupsPerRow(k);
  auto verifyMeta = [&](Value meta, StringRef what,
                        bool required) -> LogicalResult {
    if (!required) {
      if (meta)
        return emitOpError("expects no ")
               << what << " for encoding " << encoding;
      return success();
    }
    if (!meta)
      return emitOpError("requires ") << what << " for encoding " << encoding;
    auto type = cast<RankedTensorType>(meta.getType());
    if (failed(verifyMatrixShape(*this, type, what, n, groups)))
      return failure();
    if (type.getElementType() != scaleType)
      return emitOpError("expects ")
             << what << " of element type " << scaleType
             << " as the encoding states, but got " << type.getElementType();
    return success();
  };
  if (failed(verifyMeta(getScales(), "scales", bool(scaleType))) ||
      failed(verifyMeta(getOffsets(), "offsets", encoding.hasOffset())))
    return failure();

  if (failed(verifyBias(*this, getBias(), n, elementType)))
    return failure();
  return verifyTokenShape(*this, inputType, resultType, "a result", n);
}

//===----------------------------------------------------------------------===//
// PackedLinearOp
//===----------------------------------------------------------------------===//

LogicalResult PackedLinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType packedType = getPacked().getType();
  RankedTensorType metaType = getMeta().getType();
  int64_t k = getCols(), group = getGroup(), bits = getBits();
  if (bits != 2 && bits != 4 && bits != 8)
    return emitOpError("expects 2-bit (ternary), 4-bit or 8-bit codes, but "
                       "got ")
           << bits << " bits";
  if (k <= 0)
    return emitOpError("expects a positive column count, but got ") << k;
  if (!isSupportedGroup(group))
    return emitOpError("expects group 0, 64, 128 or a multiple of 256, but "
                       "got ")
           << group;
  if (inputType.getRank() < 1 || !dimsAgree(inputType.getShape().back(), k))
    return emitOpError("expects an input with ")
           << k << " features in its last dimension, but got shape "
           << formatShape(inputType.getShape());
  if (!inputType.getElementType().isF32() ||
      getResult().getType().getElementType() != inputType.getElementType())
    return emitOpError("expects f32 input and result, but got ")
           << inputType.getElementType() << " and "
           << getResult().getType().getElementType();
  if (packedType.getRank() != 2)
    return emitOpError("expects packed codes of rank 2, but got rank ")
           << packedType.getRank();
  int64_t n = packedType.getDimSize(0);
  if (failed(verifyMatrixShape(*this, packedType, "packed codes", n,
                               packedRowBytes(k, bits))))
    return failure();
  int64_t groups = groupsPerRow(k, group);
  if (metaType.getRank() != 3 || !dimsAgree(metaType.getDimSize(0), n) ||
      !dimsAgree(metaType.getDimSize(1), groups) || metaType.getDimSize(2) != 2)
    return emitOpError("expects meta of shape [")
           << n << ", " << groups << ", 2], but got "
           << formatShape(metaType.getShape());
  if (failed(verifyBias(*this, getBias(), n, inputType.getElementType())))
    return failure();
  return verifyTokenShape(*this, inputType, getResult().getType(), "a result",
                          n);
}

//===----------------------------------------------------------------------===//
// PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult PermuteOp::verify() {
  RankedTensorType type = getInput().getType();
  if (type.getRank() < 1 || type.isDynamicDim(type.getRank() - 1))
    return emitOpError("expects an input with a static last dimension, but "
                       "got shape ")
           << formatShape(type.getShape());
  int64_t k = type.getShape().back();
  ArrayRef<int64_t> perm = getPermutation();
  if (int64_t(perm.size()) != k)
    return emitOpError("expects a permutation of ")
           << k << " indices (the input's last dimension), but got "
           << perm.size();
  llvm::SmallBitVector seen(k);
  for (auto [i, p] : llvm::enumerate(perm)) {
    if (p < 0 || p >= k)
      return emitOpError("expects permutation indices in [0, ")
             << k << "), but index " << i << " is " << p;
    if (seen.test(p))
      return emitOpError("expects every index once, but ")
             << p << " appears twice";
    seen.set(p);
  }
  return success();
}

OpFoldResult PermuteOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> perm = getPermutation();
  // The identity permutation is a no-op.
  bool identity = true;
  for (auto [i, p] : llvm::enumerate(perm))
    identity &= int64_t(i) == p;
  if (identity)
    return getInput();
  // permute(permute(x, inner), outer)[i] = x[inner[outer[i]]].
  if (auto producer = getInput().getDefiningOp<PermuteOp>()) {
    ArrayRef<int64_t> inner = producer.getPermutation();
    SmallVector<int64_t> composed;
    composed.reserve(perm.size());
    for (int64_t p : perm)
      composed.push_back(inner[p]);
    setPermutation(composed);
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// SparseResidualOp
//===----------------------------------------------------------------------===//

LogicalResult SparseResidualOp::verify() {
  RankedTensorType accType = getAcc().getType();
  RankedTensorType inputType = getInput().getType();
  if (accType.getRank() < 1)
    return emitOpError("expects an accumulator of rank >= 1, but got rank 0");
  int64_t n = accType.getShape().back();
  if (failed(verifyTokenShape(*this, inputType, accType, "an accumulator", n)))
    return failure();
  Type valueType = getValues().getType().getElementType();
  if (inputType.getElementType() != accType.getElementType() ||
      (valueType != accType.getElementType() && !valueType.isF16()))
    return emitOpError("expects accumulator and input of one element type "
                       "and values of that type or f16, but got ")
           << accType.getElementType() << ", " << inputType.getElementType()
           << " and " << valueType;
  RankedTensorType rows = getRowOffsets().getType();
  int64_t expectedRows = ShapedType::isDynamic(n) ? n : n + 1;
  if (rows.getRank() != 1 || !dimsAgree(rows.getDimSize(0), expectedRows))
    return emitOpError("expects row_offsets of shape ")
           << formatShape({expectedRows}) << " (N + 1), but got "
           << formatShape(rows.getShape());
  RankedTensorType cols = getColIndices().getType();
  RankedTensorType values = getValues().getType();
  if (cols.getRank() != 1 || values.getRank() != 1)
    return emitOpError("expects col_indices and values of rank 1, but got "
                       "ranks ")
           << cols.getRank() << " and " << values.getRank();
  if (!dimsAgree(cols.getDimSize(0), values.getDimSize(0)))
    return emitOpError("expects as many values as col_indices (")
           << cols.getDimSize(0) << "), but got " << values.getDimSize(0);
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeActOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeActOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType codesType = getCodes().getType();
  RankedTensorType scaleType = getScale().getType();
  if (inputType.getRank() < 1)
    return emitOpError("expects an input of rank >= 1, but got rank 0");
  if (failed(verifyTokenShape(*this, inputType, codesType, "codes",
                              inputType.getShape().back())))
    return failure();
  ArrayRef<int64_t> tokens = inputType.getShape().drop_back();
  if (scaleType.getRank() != int64_t(tokens.size()) ||
      !llvm::all_of(llvm::zip(tokens, scaleType.getShape()), [](auto dims) {
        return dimsAgree(std::get<0>(dims), std::get<1>(dims));
      }))
    return emitOpError("expects a scale of shape ")
           << formatShape(tokens) << " (one per token), but got "
           << formatShape(scaleType.getShape());
  if (scaleType.getElementType() != inputType.getElementType())
    return emitOpError("expects scale element type ")
           << inputType.getElementType() << " like the input, but got "
           << scaleType.getElementType();
  return success();
}

#define GET_OP_CLASSES
#include "dialect/TernaryOps.cpp.inc"
