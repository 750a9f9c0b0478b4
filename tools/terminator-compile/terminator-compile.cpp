//===- terminator-compile.cpp - ONNX model to a native program ------------===//
//
// Part of TerMinator.
//
//   terminator-compile model.onnx -o NAME [--tokenizer FILE [--merges FILE]]
//       [--target host|x86-64|x86-64-v2|x86-64-v3|x86-64-v4|aarch64]
//       [--no-ternarize | --method M --granularity G --block-size B
//        --int8-layers a,b] [--context N] [--prefill-lengths 32,128,512]
//
// Writes NAME (the program) and NAME.tpar (its weights and tokenizer);
// docs/compile.md describes both.
//
//===----------------------------------------------------------------------===//

#include "tools/terminator-compile/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("terminator-compile options");
static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string>
    outputPath("o", cl::desc("The program to write (weights go to NAME.tpar)"),
               cl::value_desc("NAME"), cl::Required, cl::cat(category));
static cl::opt<std::string> tokenizer(
    "tokenizer",
    cl::desc("Tokenizer: llama2.c tok*.bin, or GPT-2 vocab.json (with "
             "--merges). Default: the one in the model's metadata"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> merges("merges",
                                   cl::desc("GPT-2 merges.txt (with "
                                            "--tokenizer vocab.json)"),
                                   cl::value_desc("file"), cl::cat(category));
static cl::opt<bool> noTokenizer(
    "no-tokenizer",
    cl::desc("Compile without a tokenizer: the program then runs only "
             "`logits --ids` and `bench` (for models that come without one)"),
    cl::cat(category));
static cl::opt<std::string>
    target("target",
           cl::desc("host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or aarch64; "
                    "ternary layers run on the kernels of the best ISA it "
                    "allows (AVX-512 VNNI, AVX2, NEON dotprod; none for "
                    "x86-64 and -v2)"),
           cl::init("host"), cl::cat(category));
static cl::opt<std::string>
    cpuFeatures("cpu-features",
                cl::desc("Extra LLVM target features, e.g. +avx512vnni (with "
                         "x86-64-v4: the VNNI kernels)"),
                cl::value_desc("+a,-b"), cl::cat(category));
static cl::opt<bool> noTernarize("no-ternarize",
                                 cl::desc("Keep the linear layers in f32"),
                                 cl::cat(category));
static cl::opt<std::string>
    method("method",
           cl::desc("Ternarization method: absmean, als, itf, or pt2 (GPTQ "
                    "with ITF; needs --calib or --calib-text). Default: pt2 "
                    "with calibration, absmean without"),
           cl::init(""), cl::cat(category));
static cl::opt<std::string> granularity(
    "granularity",
    cl::desc("Scale granularity for absmean and als: tensor or row"),
    cl::init("row"), cl::cat(category));
static cl::opt<int64_t>
    blockSize("block-size",
              cl::desc("Columns per scale group for als and itf (0: per row)"),
              cl::init(0), cl::cat(category));
static cl::list<std::string> int8Layers(
    "int8-layers",
    cl::desc("Archive entries (ONNX initializer names) kept at int8"),
    cl::CommaSeparated, cl::value_desc("name,..."), cl::cat(category));
static cl::opt<double> bitsPerWeight(
    "bits-per-weight",
    cl::desc("Mixed precision: give the layers whose ternarization hurts "
             "most (relative output error on the calibration data) int4 or "
             "int8 per row, within this many real bits per linear weight"),
    cl::init(0.0), cl::cat(category));
static cl::opt<std::string>
    groupFit("group-fit",
             cl::desc("How pt2 fits each group's (alpha, mu): itf, or aga "
                      "(least squares of the output error under the "
                      "calibration Gram matrix)"),
             cl::init("itf"), cl::cat(category));
static cl::opt<std::string> fitTarget(
    "fit-target",
    cl::desc("pt2 with --calib-stages > 1: fp (default) fits each layer to "
             "the f32 model's outputs, reading the f32 program's inputs "
             "during calibration (asymmetric calibration, GPTAQ); self fits "
             "the layer's own f32 weights"),
    cl::init("fp"), cl::cat(category));
static cl::opt<bool> noRefitScales(
    "no-refit-scales",
    cl::desc("pt2: keep the scales and offsets GPTQ fitted before rounding "
             "(by default they are refitted under H for the final codes)"),
    cl::cat(category));
static cl::opt<int64_t> int4Group(
    "int4-group",
    cl::desc("Mixed precision: columns per scale of int4 layers (default 0: "
             "one scale per row)"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string> scaleType(
    "scale-type",
    cl::desc("Element type of the ternary/int scales and offsets: f16 "
             "(default; half the bits of f32, rounding error ~5e-4 relative) "
             "or f32"),
    cl::init("f16"), cl::cat(category));
static cl::opt<std::string>
    head("head",
         cl::desc("Precision of the output head (the linear layer whose "
                  "result is the logits, found in the graph): int8 (default; "
                  "counted apart from the bits per linear weight), int4 "
                  "(likewise; per row, or --int4-group) or ternary"),
         cl::init("int8"), cl::cat(category));
static cl::opt<bool>
    noSsr("no-ssr",
          cl::desc("With --block-size: keep the input columns in their order "
                   "(SSR, on by default, reorders them so that similar "
                   "columns share a block)"),
          cl::cat(category));
static cl::opt<double> outliers(
    "outliers",
    cl::desc("Keep this fraction of each linear weight matrix (the most "
             "salient, |w|*sqrt(diag H)) as a sparse f16 residual next to the "
             "ternary part, e.g. 0.005 (48 bits per outlier)"),
    cl::init(0.0), cl::cat(category));
static cl::opt<double>
    percdamp("percdamp",
             cl::desc("GPTQ dampening for pt2, a fraction of mean(diag H)"),
             cl::init(0.01), cl::cat(category));
static cl::opt<std::string>
    calib("calib",
          cl::desc("Calibration statistics to use (written by --save-calib)"),
          cl::value_desc("stats.tpar"), cl::cat(category));
static cl::opt<std::string> calibText(
    "calib-text",
    cl::desc("Calibrate on this text: runs the f32 model on it and collects "
             "each linear layer's input statistics (docs/calibration.md)"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string>
    saveCalib("save-calib",
              cl::desc("Also keep the statistics of --calib-text here"),
              cl::value_desc("stats.tpar"), cl::cat(category));
static cl::opt<int64_t>
    calibSamples("calib-samples", cl::desc("Calibration windows (default 128)"),
                 cl::init(128), cl::cat(category));
static cl::opt<int64_t> calibSeqLen(
    "calib-seq-len",
    cl::desc("Tokens per calibration window (default: min(2048, context))"),
    cl::init(0), cl::cat(category));
static cl::opt<std::string> calibStages(
    "calib-stages",
    cl::desc("Sequential calibration: split the layers into N stages, each "
             "observed with the earlier stages ternarized, or 'groups' for "
             "one stage per group of layers that read the same input "
             "(default: groups with pt2, the best recipe; 1 with other "
             "methods)"),
    cl::value_desc("N|groups"), cl::init(""), cl::cat(category));
static cl::opt<uint64_t> seed("seed",
                              cl::desc("Seed of the calibration windows"),
                              cl::init(0), cl::cat(category));
static cl::opt<int64_t>
    context("context",
            cl::desc("Context length (default: from the model's metadata)"),
            cl::init(0), cl::cat(category));
static cl::list<int64_t> prefillLengths(
    "prefill-lengths",
    cl::desc("Prompt lengths compiled for prefill, besides the context "
             "length (default: powers of two from context/16)"),
    cl::CommaSeparated, cl::value_desc("n,..."), cl::cat(category));
static cl::opt<bool> kvCacheCopy(
    "kv-cache-copy",
    cl::desc("Compile one decode step that copies its KV cache (past in, "
             "present out, as the ONNX graph says) instead of steps over "
             "caches of a few lengths that write the new slot in place; for "
             "comparison"),
    cl::init(false), cl::cat(category));
static cl::opt<std::string>
    runtimeDir("runtime-dir",
               cl::desc("Folder of libterminator_rt.a for the target "
                        "(default: the one built with this compiler)"),
               cl::value_desc("dir"), cl::cat(category));
static cl::opt<std::string>
    saveTemps("save-temps",
              cl::desc("Keep the LLVM IR, object and model description here, "
                       "and the calibration programs (with their weights)"),
              cl::value_desc("dir"), cl::cat(category));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "terminator-compile: compile an ONNX decoder language model ahead of "
      "time into a native program (generate, perplexity, bench)\n");

  mlir::terminator::CompileOptions options;
  options.modelPath = modelPath;
  options.outputPath = outputPath;
  options.tokenizerPath = tokenizer;
  options.mergesPath = merges;
  options.noTokenizer = noTokenizer;
  if (noTokenizer && !tokenizer.empty()) {
    errs() << "terminator-compile: error: --no-tokenizer and --tokenizer "
              "exclude each other\n";
    return 2;
  }
  options.target = target;
  options.cpuFeatures = cpuFeatures;
  options.ternarize = !noTernarize;
  // The best recipe the inputs allow: calibrated GPTQ + ITF when there is
  // calibration data, else absmean (README results table).
  if (!method.empty())
    options.method = method;
  else
    options.method = calib.empty() && calibText.empty() ? "absmean" : "pt2";
  options.granularity = granularity;
  options.blockSize = blockSize;
  options.int8Layers.assign(int8Layers.begin(), int8Layers.end());
  options.context = context;
  options.percdamp = percdamp;
  options.groupFit = groupFit;
  options.fitTarget = fitTarget;
  options.refitScales = !noRefitScales;
  options.int4Group = int4Group;
  options.scaleType = scaleType;
  options.head = head;
  options.outliers = outliers;
  options.ssr = !noSsr;
  options.bitsPerWeight = bitsPerWeight;
  options.calibPath = calib;
  options.calibTextPath = calibText;
  options.saveCalib = saveCalib;
  options.calibSamples = calibSamples;
  options.calibSeqLen = calibSeqLen;
  options.seed = seed;
  // 0: one stage per input group (Driver.h).
  if (calibStages.empty())
    options.calibStages = options.method == "pt2" ? 0 : 1;
  else if (calibStages == "groups")
    options.calibStages = 0;
  else if (StringRef(calibStages).getAsInteger(10, options.calibStages) ||
           options.calibStages < 1) {
    errs() << "terminator-compile: error: --calib-stages expects a count "
              ">= 1 or 'groups', got '"
           << calibStages << "'\n";
    return 2;
  }
  if (!saveCalib.empty() && (saveCalib == outputPath + ".tpar" ||
                             saveCalib == std::string(outputPath))) {
    errs() << "terminator-compile: error: --save-calib " << saveCalib
           << " would be overwritten by the program or its weights; choose "
              "another name\n";
    return 2;
  }
  if (!calib.empty() && !calibText.empty()) {
    errs() << "terminator-compile: error: --calib and --calib-text exclude "
              "each other (--calib reuses statistics, --calib-text makes "
              "them)\n";
    return 2;
  }
  if (!(outliers >= 0.0 && outliers < 1.0)) {
    errs() << "terminator-compile: error: --outliers expects a fraction in "
              "[0, 1), e.g. 0.005\n";
    return 2;
  }
  if (fitTarget != "fp" && fitTarget != "self") {
    errs() << "terminator-compile: error: --fit-target expects fp or self, "
              "got '"
           << fitTarget << "'\n";
    return 2;
  }
  if (head != "int8" && head != "int4" && head != "ternary") {
    errs() << "terminator-compile: error: --head expects int8, int4 or "
              "ternary, got '"
           << head << "'\n";
    return 2;
  }
  if (scaleType != "f16" && scaleType != "f32") {
    errs() << "terminator-compile: error: --scale-type expects f16 or f32, "
              "got '"
           << scaleType << "'\n";
    return 2;
  }
  if (int4Group < 0) {
    errs() << "terminator-compile: error: --int4-group expects G >= 0 "
              "columns per scale (0: one per row)\n";
    return 2;
  }
  if (calibSamples < 1 || percdamp < 0) {
    errs() << "terminator-compile: error: --calib-samples must be >= 1 and "
              "--percdamp >= 0\n";
    return 2;
  }
  for (int64_t n : prefillLengths) {
    if (n < 1) {
      errs() << "terminator-compile: error: --prefill-lengths expects "
                "positive lengths, got "
             << n << "\n";
      return 2;
    }
    options.prefillLengths.push_back(n);
  }
  if (context < 0) {
    errs() << "terminator-compile: error: --context expects N >= 2\n";
    return 2;
  }
  if (options.ternarize && method.empty() && calib.empty() && calibText.empty())
    errs() << "terminator-compile: note: no calibration data, so the recipe "
              "is absmean, which leaves a model that was not trained ternary "
              "far from its f32 quality; --calib-text FILE (text like the "
              "model's own) gives the best recipe (docs/calibration.md)\n";
  options.kvCacheInPlace = !kvCacheCopy;
  options.runtimeLibDir = runtimeDir;
  options.saveTemps = saveTemps;
  return mlir::terminator::compileModel(options);
}
