//===- ParamsToArguments.cpp - archive weights as function arguments ------===//
//
// Part of TerMinator. Compiled programs receive their weights as buffers
// mapped from the parameter archive; see the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERNARYPARAMSTOARGUMENTSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;
using namespace mlir::ternary;

namespace {

struct TernaryParamsToArgumentsPass
    : mlir::terminator::impl::TernaryParamsToArgumentsPassBase<
          TernaryParamsToArgumentsPass> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      // Archive weights by entry name, in order of first appearance.
      llvm::MapVector<StringRef, SmallVector<WeightOp>> byName;
      func.walk([&](WeightOp weight) {
        if (auto param = dyn_cast<ParamAttr>(weight.getValue()))
          byName[param.getKey()].push_back(weight);
      });
      if (byName.empty())
        continue;
      Block &entry = func.getBody().front();
      SmallVector<Attribute> names;
      for (auto &[name, weights] : byName) {
        Type type = weights.front().getType();
        for (WeightOp w : weights) {
          if (w.getType() != type) {
            w.emitOpError()
                << "archive entry '" << name << "' is used with two types, "
                << type << " and " << w.getType();
            return signalPassFailure();
          }
        }
        unsigned index = func.getNumArguments();
        if (failed(func.insertArgument(index, type, /*argAttrs=*/{},
                                       weights.front().getLoc())))
          return signalPassFailure();
        BlockArgument arg = entry.getArgument(index);
        for (WeightOp w : weights) {
          w.getResult().replaceAllUsesWith(arg);
          w.erase();
        }
        names.push_back(StringAttr::get(&getContext(), name));
      }
      func->setAttr(TernaryDialect::getParamsAttrName(),
                    ArrayAttr::get(&getContext(), names));
    }
  }
};

} // namespace
