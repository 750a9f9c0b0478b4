//===- TernaryAttrs.cpp - weight encodings and parameters -----------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryDialect.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ternary;

#include "dialect/TernaryAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialect/TernaryAttrs.cpp.inc"

void TernaryDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/TernaryAttrs.cpp.inc"
      >();
}

/// Longest entry name the parameter archive accepts.
static constexpr size_t kMaxParamKeyBytes = 1024;

/// Scales and offsets are stored as f16, bf16 or f32.
static LogicalResult
verifyScaleType(function_ref<InFlightDiagnostic()> emitError, FloatType scale) {
  if (!scale || !(scale.isF16() || scale.isBF16() || scale.isF32()))
    return emitError() << "expects scale type f16, bf16 or f32, but got "
                       << scale;
  return success();
}

//===----------------------------------------------------------------------===//
// ParamAttr
//===----------------------------------------------------------------------===//

LogicalResult ParamAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                StringRef key, Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return emitError() << "expects a statically shaped tensor type for "
                          "archive entry '"
                       << key << "', but got " << type;
  if (key.empty())
    return emitError() << "expects a non-empty archive entry name";
  if (key.size() > kMaxParamKeyBytes)
    return emitError() << "expects an archive entry name of at most "
                       << kMaxParamKeyBytes << " bytes, but got " << key.size();
  return success();
}

//===----------------------------------------------------------------------===//
// TernaryEncodingAttr
//===----------------------------------------------------------------------===//

LogicalResult
TernaryEncodingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                            int64_t block, bool offset, FloatType scale) {
  (void)offset;
  if (block < 0)
    return emitError() << "expects block >= 0 (0 means one group per row), "
                          "but got "
                       << block;
  return verifyScaleType(emitError, scale);
}

unsigned TernaryEncodingAttr::getCodeBits() const { return 2; }
int64_t TernaryEncodingAttr::getGroupSize(int64_t cols) const {
  return getBlock() == 0 ? cols : getBlock();
}
FloatType TernaryEncodingAttr::getScaleType() const { return getScale(); }
bool TernaryEncodingAttr::hasOffset() const { return getOffset(); }
std::pair<int64_t, int64_t> TernaryEncodingAttr::getCodeRange() const {
  return {-1, 1};
}

//===----------------------------------------------------------------------===//
// IntEncodingAttr
//===----------------------------------------------------------------------===//

LogicalResult
IntEncodingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        unsigned bits, int64_t group, FloatType scale) {
  if (bits != 4 && bits != 8)
    return emitError() << "expects bits = 4 or 8, but got " << bits;
  if (group < 0)
    return emitError() << "expects group >= 0 (0 means one group per row), "
                          "but got "
                       << group;
  return verifyScaleType(emitError, scale);
}

unsigned IntEncodingAttr::getCodeBits() const { return getBits(); }
int64_t IntEncodingAttr::getGroupSize(int64_t cols) const {
  return getGroup() == 0 ? cols : getGroup();
}
FloatType IntEncodingAttr::getScaleType() const { return getScale(); }
bool IntEncodingAttr::hasOffset() const { return false; }
std::pair<int64_t, int64_t> IntEncodingAttr::getCodeRange() const {
  int64_t max = (int64_t(1) << (getBits() - 1)) - 1;
  return {-max, max};
}

//===----------------------------------------------------------------------===//
// FloatEncodingAttr
//===----------------------------------------------------------------------===//

unsigned FloatEncodingAttr::getCodeBits() const { return getType().getWidth(); }
int64_t FloatEncodingAttr::getGroupSize(int64_t) const { return 0; }
FloatType FloatEncodingAttr::getScaleType() const { return {}; }
bool FloatEncodingAttr::hasOffset() const { return false; }
std::pair<int64_t, int64_t> FloatEncodingAttr::getCodeRange() const {
  return {0, 0};
}
