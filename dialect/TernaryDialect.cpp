//===- TernaryDialect.cpp - the ternary dialect ---------------------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryDialect.h"
#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::ternary;

#include "dialect/TernaryDialect.cpp.inc"

void TernaryDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "dialect/TernaryOps.cpp.inc"
      >();
}

LogicalResult TernaryDialect::verifyOperationAttribute(Operation *op,
                                                       NamedAttribute attr) {
  if (attr.getName() == getParamsAttrName()) {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<FunctionOpInterface>(op) || !names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("'")
             << getParamsAttrName()
             << "' must be an array of archive entry names on a function";
    return success();
  }
  if (attr.getName() == getPrecisionAttrName()) {
    auto value = dyn_cast<StringAttr>(attr.getValue());
    if (!isa<LinearOp>(op) || !value ||
        !llvm::is_contained({"ternary", "int4", "int8", "f32"},
                            value.getValue()))
      return op->emitError("'")
             << getPrecisionAttrName()
             << "' must be \"ternary\", \"int4\", \"int8\" or \"f32\" on "
                "a ternary.linear";
    return success();
  }
  if (attr.getName() == getInputPermutationAttrName()) {
    auto perm = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    auto linear = dyn_cast<LinearOp>(op);
    if (!linear || !perm)
      return op->emitError("'")
             << getInputPermutationAttrName()
             << "' must be an array<i64> on a ternary.linear";
    int64_t k = linear.getWeight().getType().getDimSize(1);
    if (int64_t(perm.size()) != k)
      return op->emitError("'")
             << getInputPermutationAttrName() << "' has " << perm.size()
             << " indices for a weight of " << k << " columns";
    llvm::SmallBitVector seen(k);
    for (int64_t p : perm.asArrayRef())
      if (p < 0 || p >= k || seen.test(p))
        return op->emitError("'")
               << getInputPermutationAttrName()
               << "' must hold every column index in [0, " << k << ") once";
      else
        seen.set(p);
    return success();
  }
  if (attr.getName() == getRecordsAttrName()) {
    auto names = dyn_cast<ArrayAttr>(attr.getValue());
    if (!isa<ModuleOp>(op) || !names ||
        !llvm::all_of(names, [](Attribute a) { return isa<StringAttr>(a); }))
      return op->emitError("'")
             << getRecordsAttrName()
             << "' must be an array of archive entry names on a builtin.module";
    return success();
  }
  if (attr.getName() == getTargetAttrName()) {
    auto dict = dyn_cast<DictionaryAttr>(attr.getValue());
    bool ok =
        isa<ModuleOp>(op) && dict && llvm::all_of(dict, [](NamedAttribute a) {
          StringRef n = a.getName().getValue();
          return isa<StringAttr>(a.getValue()) &&
                 (n == "triple" || n == "cpu" || n == "features");
        });
    if (!ok)
      return op->emitError("'")
             << getTargetAttrName()
             << "' must be a dictionary of strings triple, cpu and features "
                "on a builtin.module";
    return success();
  }
  if (attr.getName() != getArchiveAttrName())
    return op->emitError("unknown ternary dialect attribute '")
           << attr.getName().getValue() << "'";
  if (!isa<ModuleOp>(op))
    return op->emitError("'")
           << getArchiveAttrName() << "' may only be set on a builtin.module";
  auto path = dyn_cast<StringAttr>(attr.getValue());
  if (!path || path.getValue().empty())
    return op->emitError("'") << getArchiveAttrName()
                              << "' must be a non-empty string (the path of "
                                 "the parameter archive)";
  return success();
}
