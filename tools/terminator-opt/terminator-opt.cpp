//===- terminator-opt.cpp - the TerMinator optimizer driver ---------------===//
//
// Part of TerMinator. Like mlir-opt, with every upstream dialect, extension
// and pass, plus the ternary dialect, its passes and the named pipelines.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryDialect.h"
#include "lowering/Passes.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::ternary::registerTernaryPasses();
  mlir::terminator::registerTerminatorLoweringPasses();
  mlir::terminator::registerPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::ternary::TernaryDialect>();

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "TerMinator optimizer driver\n", registry));
}
