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
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace {
/// Knobs of `terminator-ternarize`.
struct TernarizePipelineOptions
    : public PassPipelineOptions<TernarizePipelineOptions> {
  Option<std::string> method{
      *this, "method",
      llvm::cl::desc("Ternarization method: absmean, als, itf or pt2"),
      llvm::cl::init("absmean")};
  Option<std::string> granularity{
      *this, "granularity",
      llvm::cl::desc("Scale granularity for absmean and als: tensor or row"),
      llvm::cl::init("row")};
  Option<int64_t> blockSize{
      *this, "block-size",
      llvm::cl::desc("Columns per scale group for als and itf (0: per row)"),
      llvm::cl::init(0)};
  Option<std::string> report{
      *this, "report",
      llvm::cl::desc("Per-layer report: JSON to this file, a table on stderr"),
      llvm::cl::init("")};
  Option<double> bitsPerWeight{
      *this, "bits-per-weight",
      llvm::cl::desc("Mixed precision: keep the most sensitive layers at "
                     "int8 within this many real bits per linear weight "
                     "(0: all ternary)"),
      llvm::cl::init(0.0)};
  ListOption<std::string> layers{
      *this, "layers",
      llvm::cl::desc("Archive entry names of the only weights to ternarize "
                     "(all when empty)")};
  ListOption<std::string> precisions{
      *this, "precisions",
      llvm::cl::desc("With bits-per-weight: the precisions above ternary a "
                     "layer may take (int4, int8; default both)")};
  Option<int64_t> int4Group{
      *this, "int4-group",
      llvm::cl::desc("Columns per scale of int4 layers (0: one per row)"),
      llvm::cl::init(0)};
  ListOption<std::string> int8Layers{
      *this, "int8-layers",
      llvm::cl::desc("Archive entry names of weights kept at int8 per row")};
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc("Calibration statistics (.tpar; needed by pt2)"),
      llvm::cl::init("")};
  Option<double> percdamp{
      *this, "percdamp",
      llvm::cl::desc("GPTQ dampening for pt2, a fraction of mean(diag H)"),
      llvm::cl::init(0.01)};
  Option<std::string> groupFit{
      *this, "group-fit",
      llvm::cl::desc("How pt2 fits each group's (alpha, mu): itf or aga"),
      llvm::cl::init("itf")};
  Option<bool> refitScales{
      *this, "refit-scales",
      llvm::cl::desc("pt2: refit each row's scales and offsets under H after "
                     "GPTQ"),
      llvm::cl::init(true)};
  Option<std::string> fitTarget{
      *this, "fit-target",
      llvm::cl::desc("pt2: fp fits the f32 model's outputs when the "
                     "statistics hold NAME.cross; self fits W"),
      llvm::cl::init("fp")};
  Option<double> outliers{
      *this, "outliers",
      llvm::cl::desc("Fraction of each matrix's weights kept as a sparse f16 "
                     "residual (ternary-split-outliers; 0: none)"),
      llvm::cl::init(0.0)};
  Option<bool> ssr{
      *this, "ssr",
      llvm::cl::desc("Reorder input columns by similarity before "
                     "ternarizing (ternary-ssr-reorder, with block-size; "
                     "nothing to do when block-size is 0)"),
      llvm::cl::init(true)};
  Option<std::string> scaleType{
      *this, "scale-type",
      llvm::cl::desc("Element type of the scales and offsets: f32 or f16"),
      llvm::cl::init("f32")};
  Option<bool> progress{
      *this, "progress",
      llvm::cl::desc("A line per weight on stderr as it is ternarized"),
      llvm::cl::init(false)};
  Option<std::string> outputArchive{
      *this, "output-archive",
      llvm::cl::desc("Archive to write when the weights come from an archive"),
      llvm::cl::init("")};
};
} // namespace

void mlir::terminator::buildAotToLLVMPipeline(OpPassManager &pm) {
  const char *pipeline =
      "ternary-params-to-arguments,convert-ternary-to-kernels,"
      "terminator-outline-linears,convert-ternary-to-linalg,canonicalize,"
      "terminator-fuse-elementwise,"
      "canonicalize,terminator-interchange-loops,"
      "one-shot-bufferize{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "buffer-results-to-out-params{hoist-static-allocs "
      "modify-public-functions},"
      "buffer-deallocation-pipeline,canonicalize,"
      "convert-linalg-to-loops,convert-scf-to-cf,"
      "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
      "convert-vector-to-llvm,terminator-approximate-math,"
      "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
      "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
      "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("terminator-aot-to-llvm: bad built-in pipeline");
}

void mlir::terminator::registerPipelines() {
  PassPipelineRegistration<TernarizePipelineOptions>(
      "terminator-ternarize",
      "Ternarize every linear layer, then clean up the unused weights",
      [](OpPassManager &pm, const TernarizePipelineOptions &options) {
        ternary::TernaryTernarizePassOptions passOptions;
        passOptions.method = options.method;
        passOptions.granularityName = options.granularity;
        passOptions.blockSize = options.blockSize;
        passOptions.outputArchive = options.outputArchive;
        passOptions.report = options.report;
        passOptions.progress = options.progress;
        passOptions.calibration = options.calibration;
        passOptions.percdamp = options.percdamp;
        passOptions.groupFit = options.groupFit;
        passOptions.refitScales = options.refitScales;
        passOptions.fitTarget = options.fitTarget;
        passOptions.int4Group = options.int4Group;
        passOptions.scaleTypeName = options.scaleType;
        passOptions.int8Layers.assign(options.int8Layers.begin(),
                                      options.int8Layers.end());
        passOptions.onlyLayers.assign(options.layers.begin(),
                                      options.layers.end());
        if (options.bitsPerWeight > 0) {
          ternary::TernarySelectPrecisionPassOptions select;
          select.bitsPerWeight = options.bitsPerWeight;
          select.precisions.assign(options.precisions.begin(),
                                   options.precisions.end());
          select.int4Group = options.int4Group;
          select.blockSize = options.blockSize;
          select.scaleTypeName = options.scaleType;
          select.int8Layers.assign(options.int8Layers.begin(),
                                   options.int8Layers.end());
          select.method = options.method;
          select.calibration = options.calibration;
          pm.addPass(ternary::createTernarySelectPrecisionPass(select));
        }
        if (options.ssr && options.blockSize > 0) {
          ternary::TernarySsrReorderPassOptions reorder;
          reorder.blockSize = options.blockSize;
          reorder.onlyLayers.assign(options.layers.begin(),
                                    options.layers.end());
          reorder.excludeLayers.assign(options.int8Layers.begin(),
                                       options.int8Layers.end());
          reorder.outputArchive = options.outputArchive;
          pm.addPass(ternary::createTernarySsrReorderPass(reorder));
        }
        if (options.outliers > 0) {
          ternary::TernarySplitOutliersPassOptions split;
          split.fraction = options.outliers;
          split.calibration = options.calibration;
          split.onlyLayers.assign(options.layers.begin(), options.layers.end());
          split.excludeLayers.assign(options.int8Layers.begin(),
                                     options.int8Layers.end());
          split.outputArchive = options.outputArchive;
          pm.addPass(ternary::createTernarySplitOutliersPass(split));
        }
        pm.addPass(ternary::createTernaryTernarizePass(passOptions));
        pm.addPass(createCanonicalizerPass());
      });

  // The reference path: exact f32 semantics of every op through loops, for
  // checking numerics and measuring quality (not the fast kernels).
  PassPipelineRegistration<>(
      "terminator-reference-to-llvm",
      "Lower a module (archive weights inlined, ternary ops decoded to f32) "
      "to the LLVM dialect through loops, for mlir-runner",
      [](OpPassManager &pm) {
        const char *pipeline =
            "ternary-inline-params,convert-ternary-to-linalg,canonicalize,"
            "one-shot-bufferize{bufferize-function-boundaries "
            "function-boundary-type-conversion=identity-layout-map},"
            "convert-linalg-to-loops,convert-scf-to-cf,"
            "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
            "convert-math-to-libm,convert-math-to-llvm,convert-arith-to-llvm,"
            "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
            "reconcile-unrealized-casts";
        if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
          llvm::report_fatal_error("terminator-reference-to-llvm: bad "
                                   "built-in pipeline");
      });

  // The ahead-of-time path of terminator-compile: archive weights become
  // function arguments (the program maps the archive), results become
  // caller-owned out-parameters, every temporary buffer is freed.
  PassPipelineRegistration<>(
      "terminator-aot-to-llvm",
      "Lower an imported model to the LLVM dialect for an AOT program: "
      "weights and results as arguments, C interface wrappers",
      [](OpPassManager &pm) { buildAotToLLVMPipeline(pm); });
}
