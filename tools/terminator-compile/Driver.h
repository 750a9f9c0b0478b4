//===- Driver.h - terminator-compile: ONNX to a native program --*- C++ -*-===//
//
// Part of TerMinator. The stages of the AOT driver; docs/compile.md
// describes them and the program they produce.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_TOOLS_TERMINATOR_COMPILE_DRIVER_H
#define TERMINATOR_TOOLS_TERMINATOR_COMPILE_DRIVER_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::terminator {

/// Everything terminator-compile can be told.
struct CompileOptions {
  std::string modelPath;
  /// The program; its weights go to `outputPath + ".tpar"`.
  std::string outputPath;
  /// llama2.c tokenizer (tok*.bin), or GPT-2 vocab.json with `mergesPath`.
  std::string tokenizerPath;
  std::string mergesPath;
  /// No tokenizer: the program runs `logits --ids` and `bench` only.
  bool noTokenizer = false;
  /// host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or aarch64.
  std::string target = "host";
  /// Extra LLVM target features, e.g. "+avx512vnni,-avx512f".
  std::string cpuFeatures;
  bool ternarize = true;
  std::string method = "absmean";
  std::string granularity = "row";
  int64_t blockSize = 0;
  std::vector<std::string> int8Layers;
  /// Mixed precision: the most sensitive layers at int4/int8 within this many
  /// real bits per linear weight (0: all ternary).
  double bitsPerWeight = 0;
  /// GPTQ dampening, as a fraction of mean(diag H) (pt2).
  double percdamp = 0.01;
  /// How pt2 fits each group's (alpha, mu): itf or aga.
  std::string groupFit = "itf";
  /// pt2 with sequential calibration: fit the f32 model's layer outputs
  /// (fp: the stage programs read the f32 program's inputs, asymmetric
  /// calibration) or the layer's own weights on its inputs (self).
  std::string fitTarget = "fp";
  /// pt2: refit each row's scales and offsets under H after GPTQ.
  bool refitScales = true;
  /// Mixed precision: columns per scale of int4 layers (0: one per row).
  int64_t int4Group = 0;
  /// Element type of the scales and offsets: f16 (default; half the meta
  /// bits) or f32.
  std::string scaleType = "f16";
  /// Precision of the output head (the linear layer whose result is the
  /// logits): int8 (default), int4, or ternary like the other layers.
  std::string head = "int8";
  /// Fraction of each matrix's weights kept as a sparse f16 residual
  /// (ternary-split-outliers; 0: none).
  double outliers = 0;
  /// SSR column reordering before ternarizing (ternary-ssr-reorder), when
  /// blockSize > 0.
  bool ssr = true;
  /// Calibration: statistics to reuse (a .tpar written by a calibration
  /// program), or text to make them from, and how.
  std::string calibPath;
  std::string calibTextPath;
  std::string saveCalib;
  int64_t calibSamples = 128;
  /// Tokens per calibration sample (0: min(2048, context)).
  int64_t calibSeqLen = 0;
  uint64_t seed = 0;
  /// Sequential calibration: the layers, in program order, split into this
  /// many stages; stage k is observed with stages < k ternarized. 1: every
  /// layer at once on the f32 model; 0: one stage per group of layers that
  /// read the same input (the most stages, the best recipe).
  int64_t calibStages = 1;
  /// Ternarize only these weights (archive entry names); empty: all.
  std::vector<std::string> onlyLayers;
  /// Context length (0: from the model's metadata).
  int64_t context = 0;
  /// Prompt lengths compiled for prefill (empty: powers of two from
  /// context/16); the context length itself is always compiled too.
  std::vector<int64_t> prefillLengths;
  /// Decode steps write their new key and value into the cache in place,
  /// over caches of context/8 ... context slots (false: one step that
  /// copies past into present, as exported).
  bool kvCacheInPlace = true;
  /// Where libterminator_rt.a for the target is.
  std::string runtimeLibDir;
  /// Keep the intermediate files (MLIR, LLVM IR, objects) in this folder.
  std::string saveTemps;
};

/// Compiles the model; prints progress and errors to stderr. Returns the
/// process exit code (0 on success). On failure no output is left behind.
int compileModel(const CompileOptions &options);

} // namespace mlir::terminator

#endif // TERMINATOR_TOOLS_TERMINATOR_COMPILE_DRIVER_H
