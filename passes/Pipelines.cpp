//===- Pipelines.cpp - named TerMinator pass pipelines --------------------===//
//
// Part of TerMinator. Every named pipeline is registered here and nowhere
// else.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace {
/// Knobs of `terminator-ternarize`.
struct TernarizePipelineOptions
    : public PassPipelineOptions<TernarizePipelineOptions> {
  Option<std::string> method{*this, "method",
                             llvm::cl::desc("Ternarization method: absmean"),
                             llvm::cl::init("absmean")};
  Option<std::string> granularity{
      *this, "granularity",
      llvm::cl::desc("Scale granularity for absmean: tensor or row"),
      llvm::cl::init("row")};
};
} // namespace

void mlir::terminator::registerPipelines() {
  PassPipelineRegistration<TernarizePipelineOptions>(
      "terminator-ternarize",
      "Ternarize every linear layer, then clean up the unused weights",
      [](OpPassManager &pm, const TernarizePipelineOptions &options) {
        ternary::TernaryTernarizePassOptions passOptions;
        passOptions.method = options.method;
        passOptions.granularityName = options.granularity;
        pm.addPass(ternary::createTernaryTernarizePass(passOptions));
        pm.addPass(createCanonicalizerPass());
      });
}
