//===- OutlineLinears.cpp - one function per linear layer shape -----------===//
//
// Part of TerMinator. See TerminatorOutlineLinearsPass in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "lowering/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::terminator {
#define GEN_PASS_DEF_TERMINATOROUTLINELINEARSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;
using namespace mlir::ternary;

namespace {

/// A name and a key for the op's signature and attributes: two linear
/// layers with the same key compute the same function of their operands.
std::string keyOf(Operation *op) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << op->getName() << "(";
  llvm::interleaveComma(op->getOperandTypes(), os);
  os << ")->(";
  llvm::interleaveComma(op->getResultTypes(), os);
  os << ")" << op->getAttrDictionary();
  return key;
}

struct TerminatorOutlineLinearsPass
    : mlir::terminator::impl::TerminatorOutlineLinearsPassBase<
          TerminatorOutlineLinearsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> outlined;
    SmallVector<Operation *> linears;
    for (auto func : module.getOps<func::FuncOp>())
      func.walk([&](Operation *op) {
        if (isa<LinearOp, QLinearOp>(op))
          linears.push_back(op);
      });
    for (Operation *op : linears) {
      func::FuncOp &callee = outlined[keyOf(op)];
      if (!callee) {
        OpBuilder b(ctx);
        b.setInsertionPointToEnd(module.getBody());
        auto type =
            b.getFunctionType(op->getOperandTypes(), op->getResultTypes());
        callee = func::FuncOp::create(b, op->getLoc(), "trt_linear", type);
        callee.setPrivate();
        // LLVM would inline the small scalar loops back into every layer
        // before it vectorizes them; one copy per shape is the point.
        callee->setAttr("passthrough",
                        b.getArrayAttr({b.getStringAttr("noinline")}));
        symbols.insert(callee); // uniques the name: trt_linear_N
        Block *body = callee.addEntryBlock();
        b.setInsertionPointToStart(body);
        IRMapping map;
        map.map(op->getOperands(), body->getArguments());
        Operation *clone = b.clone(*op, map);
        func::ReturnOp::create(b, op->getLoc(), clone->getResults());
      }
      OpBuilder b(op);
      auto call =
          func::CallOp::create(b, op->getLoc(), callee, op->getOperands());
      op->replaceAllUsesWith(call.getResults());
      op->erase();
    }
  }
};

} // namespace
