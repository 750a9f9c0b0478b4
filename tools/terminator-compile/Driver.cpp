//===- Driver.cpp - terminator-compile: ONNX to a native program ----------===//
//
// Part of TerMinator.
//
// Stages (each prints one progress line):
//   1. read the model's interface and pick the specializations (prefill
//      lengths, decode steps over KV caches of a few lengths);
//   2. import each specialization with the ONNX frontend (the first writes
//      the weights' archive) into one module;
//   3. ternarize (terminator-ternarize), unless --no-ternarize;
//   4. write the program's archive: the weights the functions use, the
//      tokenizer;
//   5. lower (terminator-aot-to-llvm), translate to LLVM IR, optimize and
//      emit an object for the target;
//   6. link it with the runtime and a generated model description.
// Everything is written in a temporary folder next to the output and moved
// into place at the end, so a failure leaves nothing behind.
//
//===----------------------------------------------------------------------===//

#include "tools/terminator-compile/Driver.h"

#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryDialect.h"
#include "dialect/TernaryOps.h"
#include "frontend/onnx/OnnxImporter.h"
#include "lowering/Passes.h"
#include "lowering/Target.h"
#include "lowering/ToLLVM/EmitObject.h"
#include "passes/Passes.h"
#include "terminator/runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/Base64.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <chrono>
#include <cmath>
#include <map>
#include <optional>

using namespace mlir;
using namespace mlir::terminator;
using llvm::StringRef;

namespace {

//===----------------------------------------------------------------------===//
// Diagnostics and progress
//===----------------------------------------------------------------------===//

llvm::raw_ostream &error() {
  return llvm::errs() << "terminator-compile: error: ";
}

/// Prints "[k/n] what" when a stage starts and its time when the next does.
class Progress {
public:
  explicit Progress(int stages) : stages(stages) {}
  ~Progress() { finish(); }
  void stage(const llvm::Twine &what) {
    finish();
    llvm::errs() << "[" << ++index << "/" << stages << "] " << what << " ... ";
    llvm::errs().flush();
    start = std::chrono::steady_clock::now();
    open = true;
  }
  void finish() {
    if (!open)
      return;
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    llvm::errs() << llvm::format("%.1f s\n", s);
    open = false;
  }
  /// Counts `delta` more (or fewer) stages than announced.
  void addStages(int delta) { stages += delta; }
  /// Ends the line of a failed stage, so the error starts on its own line.
  void fail() {
    if (open)
      llvm::errs() << "failed\n";
    open = false;
  }

private:
  int stages, index = 0;
  bool open = false;
  std::chrono::steady_clock::time_point start;
};

//===----------------------------------------------------------------------===//
// The model's interface
//===----------------------------------------------------------------------===//

/// One graph input or output and what it means to the runtime.
struct Port {
  std::string name;
  trt_arg_role role;
  int32_t layer = 0;
};

/// What terminator-compile needs to know about a decoder's ONNX interface.
struct Interface {
  std::vector<Port> inputs, outputs;
  std::string seqDim, pastDim, maskDim; // symbolic dimension names
  bool hasCache = false;
  int64_t vocab = 0, layers = 0, context = 0;
  int32_t bos = 1, eos = 2;
};

/// Parses "past_key_values.3.key" into (3, key?); false if not of that form.
bool parseCacheName(StringRef name, StringRef prefix, int32_t &layer,
                    bool &isKey) {
  if (!name.consume_front(prefix))
    return false;
  auto [num, kind] = name.split('.');
  unsigned l;
  if (num.getAsInteger(10, l) || (kind != "key" && kind != "value"))
    return false;
  layer = int32_t(l);
  isKey = kind == "key";
  return true;
}

std::optional<Interface> analyzeInterface(const OnnxModelInfo &info,
                                          const CompileOptions &options,
                                          StringRef path) {
  Interface iface;
  auto bad = [&]() -> llvm::raw_ostream & { return error() << path << ": "; };
  for (const OnnxValueInfo &in : info.inputs) {
    Port port{in.name, TRT_ARG_INPUT_IDS};
    int32_t layer;
    bool isKey;
    if (in.name == "input_ids") {
      if (in.dims.size() != 2 || in.dimNames[1].empty()) {
        bad() << "input 'input_ids' must be [batch, sequence_length] with a "
                 "symbolic sequence length";
        return std::nullopt;
      }
      iface.seqDim = in.dimNames[1];
    } else if (in.name == "position_ids") {
      port.role = TRT_ARG_POSITION_IDS;
    } else if (in.name == "attention_mask") {
      port.role = TRT_ARG_ATTENTION_MASK;
      if (in.dims.size() == 2 && !in.dimNames[1].empty())
        iface.maskDim = in.dimNames[1];
    } else if (parseCacheName(in.name, "past_key_values.", layer, isKey)) {
      port.role = isKey ? TRT_ARG_PAST_KEY : TRT_ARG_PAST_VALUE;
      port.layer = layer;
      iface.hasCache = true;
      iface.layers = std::max<int64_t>(iface.layers, layer + 1);
      if (in.dims.size() != 4 || in.dimNames[2].empty()) {
        bad() << "input '" << in.name
              << "' must be [batch, heads, past_sequence_length, head_dim] "
                 "with a symbolic past length";
        return std::nullopt;
      }
      iface.pastDim = in.dimNames[2];
    } else {
      bad() << "input '" << in.name
            << "' is not part of the decoder interface terminator-compile "
               "runs (input_ids, position_ids, attention_mask, "
               "past_key_values.N.key/value); see docs/compile.md";
      return std::nullopt;
    }
    if (!in.dims.empty() && in.dims[0] != 1 && in.dimNames[0].empty()) {
      bad() << "input '" << in.name << "' has batch size " << in.dims[0]
            << "; compiled programs run batch 1";
      return std::nullopt;
    }
    iface.inputs.push_back(port);
  }
  if (iface.seqDim.empty()) {
    bad() << "the model has no input 'input_ids'; terminator-compile "
             "compiles decoder language models (see docs/compile.md)";
    return std::nullopt;
  }
  for (const OnnxValueInfo &out : info.outputs) {
    Port port{out.name, TRT_ARG_LOGITS};
    int32_t layer;
    bool isKey;
    if (out.name == "logits") {
      if (out.dims.size() != 3 || out.dims[2] <= 0) {
        bad() << "output 'logits' must be [batch, sequence_length, vocab] "
                 "with a static vocabulary size";
        return std::nullopt;
      }
      iface.vocab = out.dims[2];
    } else if (parseCacheName(out.name, "present.", layer, isKey)) {
      port.role = isKey ? TRT_ARG_PRESENT_KEY : TRT_ARG_PRESENT_VALUE;
      port.layer = layer;
    } else {
      bad() << "output '" << out.name
            << "' is not part of the decoder interface (logits, "
               "present.N.key/value)";
      return std::nullopt;
    }
    iface.outputs.push_back(port);
  }
  if (!iface.vocab) {
    bad() << "the model has no output 'logits'";
    return std::nullopt;
  }
  iface.context = options.context;
  if (!iface.context) {
    auto it = info.metadata.find("terminator.context_length");
    if (it == info.metadata.end() ||
        StringRef(it->second).getAsInteger(10, iface.context)) {
      bad() << "the model does not record its context length; pass "
               "--context N (the longest sequence the program will run)";
      return std::nullopt;
    }
  }
  if (iface.context < 2) {
    bad() << "context length " << iface.context << " is too small";
    return std::nullopt;
  }
  auto number = [&](StringRef key, int32_t &out) {
    auto it = info.metadata.find(key);
    int v;
    if (it != info.metadata.end() && !StringRef(it->second).getAsInteger(10, v))
      out = v;
  };
  number("terminator.bos", iface.bos);
  number("terminator.eos", iface.eos);
  return iface;
}

//===----------------------------------------------------------------------===//
// Specializations
//===----------------------------------------------------------------------===//

struct Specialization {
  std::string name;
  int64_t seq, past;
  bool keyMask;
};

std::vector<Specialization> specializations(const Interface &iface,
                                            const CompileOptions &options) {
  std::vector<int64_t> lengths = options.prefillLengths;
  if (lengths.empty()) // powers of two from context/16, and the context
    for (int64_t n = std::max<int64_t>(1, iface.context / 16);
         n < iface.context; n *= 2)
      lengths.push_back(n);
  lengths.push_back(iface.context);
  llvm::sort(lengths);
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  std::vector<Specialization> specs;
  for (int64_t s : lengths)
    specs.push_back({"prefill_" + std::to_string(s), s, 0, false});
  // Decode steps over caches of context/8, /4, /2 and the whole context
  // (terminator-kv-cache-in-place makes the cache one buffer of P + 1 slots
  // that the step writes its token into): the runtime runs the shortest
  // that holds the sequence, so attention reads only about the filled
  // slots; the key mask hides the slots that hold no token yet.
  if (iface.hasCache && !options.kvCacheInPlace) {
    specs.push_back({"decode", 1, iface.context - 1, true});
  } else if (iface.hasCache) {
    std::vector<int64_t> caches;
    for (int64_t n = iface.context; n >= 2 && caches.size() < 4; n /= 2)
      caches.insert(caches.begin(), n);
    for (int64_t n : caches)
      specs.push_back({"decode_" + std::to_string(n), 1, n - 1, true});
  }
  return specs;
}

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

struct Target {
  std::string name, triple, cpu, features;
  /// Features the program checks at start-up (runtime names).
  std::string required;
  /// The lowering's view: every feature the CPU name implies as well.
  TargetDescription description;
};

std::optional<Target> resolveTarget(const CompileOptions &options) {
  Target t;
  t.name = options.target;
  t.features = options.cpuFeatures;
  static const char *x86 = "x86_64-unknown-linux-gnu";
  if (t.name == "host") {
    t.triple = llvm::sys::getDefaultTargetTriple();
    t.cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    std::vector<std::string> enabled;
    for (const char *f : {"avx2", "fma", "f16c", "avx512f", "avx512bw",
                          "avx512vl", "avx512vnni", "dotprod"})
      if (host.lookup(f))
        enabled.push_back(f);
    t.required = llvm::join(enabled, ",");
  } else if (t.name == "x86-64" || t.name == "x86-64-v2") {
    t.triple = x86;
    t.cpu = t.name;
  } else if (t.name == "x86-64-v3") {
    t.triple = x86;
    t.cpu = t.name;
    t.required = "avx2,fma,f16c";
  } else if (t.name == "x86-64-v4") {
    t.triple = x86;
    t.cpu = t.name;
    t.required = "avx2,fma,f16c,avx512f,avx512bw,avx512vl";
  } else if (t.name == "aarch64") {
    t.triple = "aarch64-unknown-linux-gnu";
    t.cpu = "generic";
    t.features =
        t.features.empty() ? "+neon,+dotprod" : "+neon,+dotprod," + t.features;
    t.required = "neon,dotprod";
  } else {
    error() << "unknown --target '" << t.name
            << "'; use host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or "
               "aarch64\n";
    return std::nullopt;
  }
  // The kernels' ISA follows from the required features plus the explicit
  // ones; the program then checks the kernels' features at start-up too.
  SmallVector<std::string> flags;
  for (StringRef f : llvm::split(t.required, ','))
    if (!f.empty())
      flags.push_back(("+" + f).str());
  if (!t.features.empty())
    flags.push_back(t.features);
  t.description = {t.triple, t.cpu, llvm::join(flags, ",")};
  std::vector<std::string> required;
  for (StringRef list : {StringRef(t.required),
                         kernelIsaRuntimeFeatures(t.description.kernelIsa())})
    for (StringRef f : llvm::split(list, ','))
      if (!f.empty() && !llvm::is_contained(required, f.str()))
        required.push_back(f.str());
  t.required = llvm::join(required, ",");
  return t;
}

//===----------------------------------------------------------------------===//
// MLIR stages
//===----------------------------------------------------------------------===//

void registerEverything(DialectRegistry &registry) {
  // The pipelines are built from their textual names.
  static bool passesRegistered = [] {
    registerAllPasses();
    ternary::registerTernaryPasses();
    registerTerminatorLoweringPasses();
    registerPipelines();
    return true;
  }();
  (void)passesRegistered;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<ternary::TernaryDialect>();
  registerOnnxImportDialects(registry);
}

/// Imports every specialization into one module.
FailureOr<OwningOpRef<ModuleOp>> importAll(MLIRContext &context,
                                           const CompileOptions &options,
                                           const Interface &iface,
                                           ArrayRef<Specialization> specs,
                                           StringRef archivePath) {
  OwningOpRef<ModuleOp> merged;
  for (const Specialization &spec : specs) {
    OnnxImportOptions io;
    io.archivePath = merged ? "" : archivePath.str();
    io.archiveRef = archivePath.str();
    io.functionName = spec.name;
    io.dimSizes[iface.seqDim] = spec.seq;
    if (!iface.pastDim.empty())
      io.dimSizes[iface.pastDim] = spec.past;
    if (!iface.maskDim.empty())
      io.dimSizes[iface.maskDim] = spec.past + spec.seq;
    io.keyMaskLength = spec.keyMask ? spec.past + spec.seq : 0;
    auto module = importOnnxModel(context, options.modelPath, io);
    if (failed(module))
      return failure();
    if (!merged) {
      merged = std::move(*module);
      continue;
    }
    for (auto func :
         llvm::make_early_inc_range((*module)->getOps<func::FuncOp>()))
      func->moveBefore(merged->getBody(), merged->getBody()->end());
  }
  return merged;
}

/// Real bits per linear weight of the module (after ternarization), and a
/// one-line description.
/// The archive entry that weight value `v` reads (a ternary.weight of a
/// ternary.param); empty for any other value.
StringRef weightKey(Value v) {
  auto w = v.getDefiningOp<ternary::WeightOp>();
  auto p = w ? dyn_cast<ternary::ParamAttr>(w.getValue()) : nullptr;
  return p ? p.getKey() : StringRef();
}

std::string describeWeights(ModuleOp module, const CompileOptions &options,
                            StringRef headKey) {
  double bits = 0, weights = 0, headBits = 0, headWeights = 0;
  llvm::StringSet<> seen;
  module.walk([&](Operation *op) {
    auto codes = [&](Value v) { return weightKey(v).str(); };
    if (auto q = dyn_cast<ternary::QLinearOp>(op)) {
      std::string key = codes(q.getCodes());
      if (!key.empty() && !seen.insert(key).second)
        return;
      auto type = q.getCodes().getType();
      int64_t n = type.getDimSize(0), k = type.getDimSize(1);
      double b = q.getEncoding().getBitsPerWeight(n, k) * double(n * k);
      bool isHead = !headKey.empty() && key == (headKey + ".codes").str();
      (isHead ? headBits : bits) += b;
      (isHead ? headWeights : weights) += double(n * k);
    } else if (auto s = dyn_cast<ternary::SparseResidualOp>(op)) {
      // Outliers: value, column index and row offsets at their widths.
      std::string key = codes(s.getValues());
      if (!key.empty() && !seen.insert(key).second)
        return;
      auto width = [](Value v) {
        auto t = cast<RankedTensorType>(v.getType());
        return double(t.getNumElements() * t.getElementTypeBitWidth());
      };
      bits += width(s.getValues()) + width(s.getColIndices()) +
              width(s.getRowOffsets());
    } else if (auto p = dyn_cast<ternary::PermuteOp>(op)) {
      // An SSR permutation left before its layer: 16-bit indices.
      for (Operation *user : p->getUsers())
        if (auto q = dyn_cast<ternary::QLinearOp>(user)) {
          std::string key = codes(q.getCodes());
          if (!key.empty() && !seen.insert(key + ".permutation").second)
            return;
          bool isHead = !headKey.empty() && key == (headKey + ".codes").str();
          (isHead ? headBits : bits) +=
              16.0 * double(p.getPermutation().size());
          return;
        }
    } else if (auto l = dyn_cast<ternary::LinearOp>(op)) {
      std::string key = codes(l.getWeight());
      if (!key.empty() && !seen.insert(key).second)
        return;
      auto type = l.getWeight().getType();
      int64_t n = type.getDimSize(0), k = type.getDimSize(1);
      bits += type.getElementTypeBitWidth() * double(n * k);
      weights += double(n * k);
    }
  });
  double mean = weights ? bits / weights : 0;
  // The int8 (or int4) head is counted apart, as the ternarization issue's
  // bits budgets do (embeddings and head at 8 bits or more).
  std::string head;
  if (headWeights > 0)
    head = llvm::formatv(", head {0} {1} ({2:F3} bits per linear weight "
                         "with it)",
                         headKey, options.head,
                         (bits + headBits) / (weights + headWeights))
               .str();
  if (!options.ternarize)
    return llvm::formatv("f32 (not ternarized), {0:F3} bits per linear weight",
                         mean);
  std::string recipe = options.method;
  if (options.method != "itf")
    recipe += "/" + options.granularity;
  if (options.blockSize)
    recipe += llvm::formatv(" block {0}{1}", options.blockSize,
                            options.ssr ? " + SSR" : "")
                  .str();
  if (options.method == "pt2" && options.groupFit != "itf")
    recipe += " " + options.groupFit;
  if (!options.int8Layers.empty())
    recipe += llvm::formatv(" + {0} int8 layer(s)", options.int8Layers.size());
  if (options.outliers > 0)
    recipe += llvm::formatv(" + {0}% outliers", 100 * options.outliers);
  if (options.bitsPerWeight > 0)
    recipe += llvm::formatv(", mixed precision within {0} bits",
                            options.bitsPerWeight);
  recipe += ", " + options.scaleType + " scales";
  return llvm::formatv("ternary {0}, {1:F3} bits per linear weight{2}", recipe,
                       mean, head);
}

/// The archive key of the output head: the ternary.linear whose result,
/// through shape-only ops, is the logits (result `logits` of a function).
/// Empty when the logits come from something else.
std::string findHeadKey(ModuleOp module, unsigned logits) {
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    auto ret = dyn_cast<func::ReturnOp>(func.getBody().back().getTerminator());
    if (!ret || ret.getNumOperands() <= logits)
      continue;
    Value v = ret.getOperand(logits);
    while (Operation *def = v.getDefiningOp()) {
      if (auto linear = dyn_cast<ternary::LinearOp>(def)) {
        return weightKey(linear.getWeight()).str();
      }
      if (!isa<tensor::ReshapeOp, tensor::CollapseShapeOp,
               tensor::ExpandShapeOp, tensor::CastOp>(def))
        break;
      v = def->getOperand(0);
    }
  }
  return {};
}

/// Whether `module` is big enough (over 20M linear weights, each shared
/// weight once) for ternarization to print a progress line per weight.
bool showsTernarizeProgress(ModuleOp module) {
  llvm::StringSet<> keys;
  int64_t weights = 0;
  module.walk([&](ternary::LinearOp op) {
    StringRef key = weightKey(op.getWeight());
    if (key.empty() || keys.insert(key).second)
      weights += op.getWeight().getType().getNumElements();
  });
  return weights > 20000000;
}

LogicalResult ternarize(ModuleOp module, const CompileOptions &options,
                        StringRef outputArchive, StringRef calibration) {
  std::string pipeline = llvm::formatv(
      "terminator-ternarize{{method={0} granularity={1} "
      "block-size={2} percdamp={3:E9} group-fit={7} int4-group={8} "
      "scale-type={9} outliers={10:E9} ssr={11} progress={12} "
      "fit-target={13} refit-scales={14} output-archive={4}{5}{6}}",
      options.method, options.granularity, options.blockSize, options.percdamp,
      outputArchive,
      options.int8Layers.empty()
          ? std::string()
          : " int8-layers=" + llvm::join(options.int8Layers, ","),
      (calibration.empty() ? std::string()
                           : " calibration=" + calibration.str()) +
          (options.onlyLayers.empty()
               ? std::string()
               : " layers=" + llvm::join(options.onlyLayers, ",")) +
          // Mixed precision is chosen once, for the final model; calibration
          // stages ternarize their earlier layers without it.
          (options.bitsPerWeight > 0 && options.onlyLayers.empty()
               ? llvm::formatv(" bits-per-weight={0:E9}", options.bitsPerWeight)
                     .str()
               : std::string()),
      options.groupFit, options.int4Group, options.scaleType, options.outliers,
      options.ssr ? "true" : "false",
      showsTernarizeProgress(module) ? "true" : "false", options.fitTarget,
      options.refitScales ? "true" : "false");
  auto pm = PassManager::on<ModuleOp>(module->getContext());
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    return failure();
  if (failed(pm.run(module)))
    return failure();
  module->setAttr(ternary::TernaryDialect::getArchiveAttrName(),
                  StringAttr::get(module->getContext(), outputArchive));
  return success();
}

/// Sets ternary.precision on every linear layer whose archive key is in
/// `precisions`, as select-precision and --head mark layers.
void markPrecisions(ModuleOp module,
                    const llvm::StringMap<std::string> &precisions) {
  module.walk([&](ternary::LinearOp op) {
    StringRef key = weightKey(op.getWeight());
    auto it = key.empty() ? precisions.end() : precisions.find(key);
    if (it != precisions.end())
      op->setAttr(ternary::TernaryDialect::getPrecisionAttrName(),
                  StringAttr::get(module.getContext(), it->second));
  });
}

/// The --head precision of the output head, keyed by its archive entry
/// (empty when the head stays ternary or --int8-layers names it).
llvm::StringMap<std::string> headPrecision(ModuleOp module,
                                           const Interface &iface,
                                           const CompileOptions &options) {
  llvm::StringMap<std::string> out;
  if (!options.ternarize || options.head == "ternary")
    return out;
  auto logits = llvm::find_if(
      iface.outputs, [](const Port &p) { return p.role == TRT_ARG_LOGITS; });
  std::string key =
      findHeadKey(module, unsigned(logits - iface.outputs.begin()));
  if (!key.empty() && !llvm::is_contained(options.int8Layers, key))
    out[key] = options.head;
  return out;
}

/// Mixed precision for sequential calibration, chosen once before the
/// later stages run so that they calibrate behind the precisions the final
/// model will have: ternary-select-precision on `module` (the head already
/// marked) with the f32 model's statistics; each weight's precision by
/// archive key.
FailureOr<llvm::StringMap<std::string>>
choosePrecisions(ModuleOp module, const CompileOptions &options,
                 StringRef stats) {
  std::string pipeline = llvm::formatv(
      "ternary-select-precision{{bits-per-weight={0:E9} method={1} "
      "block-size={2} int4-group={3} scale-type={4} calibration={5}{6}}",
      options.bitsPerWeight, options.method, options.blockSize,
      options.int4Group, options.scaleType, stats,
      options.int8Layers.empty()
          ? std::string()
          : " int8-layers=" + llvm::join(options.int8Layers, ","));
  auto pm = PassManager::on<ModuleOp>(module->getContext());
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())) ||
      failed(pm.run(module)))
    return failure();
  llvm::StringMap<std::string> out;
  module.walk([&](ternary::LinearOp op) {
    StringRef key = weightKey(op.getWeight());
    auto mark = op->getAttrOfType<StringAttr>(
        ternary::TernaryDialect::getPrecisionAttrName());
    if (!key.empty() && mark)
      out[key] = mark.getValue().str();
  });
  return out;
}

/// One function's arguments in call order, after ternary-params-to-arguments.
struct FunctionSignature {
  Specialization spec;
  std::vector<trt_arg> args;
  std::vector<std::string> names; // backing storage for trt_arg::name
};

trt_dtype dtypeOf(Type t) {
  if (t.isF32())
    return TRT_DTYPE_F32;
  if (t.isF16())
    return TRT_DTYPE_F16;
  if (t.isBF16())
    return TRT_DTYPE_BF16;
  if (t.isInteger(8))
    return TRT_DTYPE_I8;
  if (t.isInteger(32))
    return TRT_DTYPE_I32;
  if (t.isInteger(64))
    return TRT_DTYPE_I64;
  return TRT_DTYPE_INVALID;
}

FailureOr<std::vector<FunctionSignature>>
signatures(ModuleOp module, const Interface &iface,
           ArrayRef<Specialization> specs, const CompileOptions &options) {
  // A decode step writes its new key and value into the caller's cache
  // (the slot is an argument after the key mask), then the weights become
  // arguments after those.
  auto pm = PassManager::on<ModuleOp>(module->getContext());
  if (options.kvCacheInPlace)
    pm.addPass(createTerminatorKvCacheInPlacePass());
  pm.addPass(createTernaryParamsToArgumentsPass());
  if (failed(pm.run(module)))
    return failure();
  std::vector<FunctionSignature> out;
  for (const Specialization &spec : specs) {
    auto func = module.lookupSymbol<func::FuncOp>(spec.name);
    FunctionSignature sig{spec, {}, {}};
    auto params = func->getAttrOfType<ArrayAttr>(
        ternary::TernaryDialect::getParamsAttrName());
    auto inPlace =
        func->getAttrOfType<DenseI64ArrayAttr>("terminator.in_place_cache");
    SmallVector<Port> ports(iface.inputs.begin(), iface.inputs.end());
    if (spec.keyMask)
      ports.push_back({"key_mask", TRT_ARG_KEY_MASK});
    if (inPlace)
      ports.push_back({"cache_slot", TRT_ARG_CACHE_SLOT});
    if (params)
      for (Attribute a : params)
        ports.push_back({cast<StringAttr>(a).str(), TRT_ARG_PARAM});
    SmallVector<Type> types(func.getArgumentTypes());
    for (auto [i, port] : llvm::enumerate(iface.outputs))
      if (!inPlace || !llvm::is_contained(inPlace.asArrayRef(), int64_t(i)))
        ports.push_back(port);
    types.append(func.getResultTypes().begin(), func.getResultTypes().end());
    if (ports.size() != types.size())
      return func.emitError("internal: ")
             << ports.size() << " ports for " << types.size() << " arguments";
    sig.names.reserve(ports.size());
    for (auto [port, type] : llvm::zip(ports, types)) {
      auto tt = cast<RankedTensorType>(type);
      trt_arg arg{};
      arg.role = port.role;
      arg.layer = port.layer;
      arg.dtype = dtypeOf(tt.getElementType());
      arg.rank = int32_t(tt.getRank());
      if (arg.dtype == TRT_DTYPE_INVALID || arg.rank > TRT_MAX_ARG_RANK)
        return func.emitError("unsupported argument type ") << type;
      for (int64_t d = 0; d < tt.getRank(); ++d)
        arg.shape[d] = tt.getDimSize(d);
      sig.names.push_back(port.name);
      sig.args.push_back(arg);
    }
    out.push_back(std::move(sig));
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The program's archive
//===----------------------------------------------------------------------===//

struct Tokenizer {
  std::string format;                                       // llama2c | gpt2
  std::vector<std::pair<std::string, std::string>> entries; // name, bytes
};

std::optional<Tokenizer> loadTokenizer(const CompileOptions &options,
                                       const OnnxModelInfo &info) {
  Tokenizer tok;
  if (options.noTokenizer) {
    tok.format = "none";
    return tok;
  }
  auto read = [](StringRef path, std::string &out) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!buffer) {
      error() << "cannot read the tokenizer " << path << ": "
              << buffer.getError().message() << "\n";
      return false;
    }
    out = (*buffer)->getBuffer().str();
    return true;
  };
  if (!options.tokenizerPath.empty()) {
    std::string data;
    if (!read(options.tokenizerPath, data))
      return std::nullopt;
    if (StringRef(options.tokenizerPath).ends_with(".json")) {
      if (options.mergesPath.empty()) {
        error() << "a GPT-2 tokenizer needs both files: --tokenizer "
                   "vocab.json --merges merges.txt\n";
        return std::nullopt;
      }
      std::string merges;
      if (!read(options.mergesPath, merges))
        return std::nullopt;
      tok.format = "gpt2";
      tok.entries = {{"terminator.tokenizer.vocab", data},
                     {"terminator.tokenizer.merges", merges}};
    } else {
      tok.format = "llama2c";
      tok.entries = {{"terminator.tokenizer", data}};
    }
    return tok;
  }
  auto format = info.metadata.find("terminator.tokenizer.format");
  auto data = info.metadata.find("terminator.tokenizer.data");
  if (format == info.metadata.end() || data == info.metadata.end()) {
    error() << options.modelPath
            << ": an ONNX file carries no tokenizer, and this one has none in "
               "its metadata; pass --tokenizer tok.bin (llama2.c) or "
               "--tokenizer vocab.json --merges merges.txt (GPT-2), or "
               "--no-tokenizer for a program that only runs token ids\n";
    return std::nullopt;
  }
  std::vector<char> bytes;
  if (llvm::Error e = llvm::decodeBase64(data->second, bytes)) {
    error() << options.modelPath
            << ": metadata terminator.tokenizer.data is not base64: "
            << llvm::toString(std::move(e)) << "\n";
    return std::nullopt;
  }
  if (format->second != "llama2c") {
    error() << options.modelPath << ": tokenizer format '" << format->second
            << "' in the metadata is not supported; pass --tokenizer\n";
    return std::nullopt;
  }
  tok.format = "llama2c";
  tok.entries = {
      {"terminator.tokenizer", std::string(bytes.begin(), bytes.end())}};
  return tok;
}

/// Copies the entries the functions use and the `records` (entries that
/// describe the weights for tools, e.g. SSR permutations) from `source`,
/// and adds the tokenizer.
LogicalResult writeProgramArchive(StringRef source, StringRef dest,
                                  ArrayRef<FunctionSignature> sigs,
                                  ArrayRef<std::string> records,
                                  const Tokenizer &tok) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *in = nullptr;
  trt_writer *out = nullptr;
  llvm::scope_exit cleanup([&] {
    trt_archive_close(in);
    trt_writer_destroy(out);
  });
  if (trt_archive_open(source.str().c_str(), TRT_ARCHIVE_NO_VERIFY, &in, err,
                       sizeof(err)) != TRT_OK ||
      trt_writer_create(dest.str().c_str(), &out, err, sizeof(err)) != TRT_OK) {
    error() << err << "\n";
    return failure();
  }
  llvm::StringSet<> done;
  std::vector<std::string> names(records.begin(), records.end());
  for (const FunctionSignature &sig : sigs)
    for (auto [arg, name] : llvm::zip(sig.args, sig.names))
      if (arg.role == TRT_ARG_PARAM)
        names.push_back(name);
  for (const std::string &name : names) {
    if (!done.insert(name).second)
      continue;
    const trt_entry *e;
    if (trt_archive_find(in, name.c_str(), &e, err, sizeof(err)) != TRT_OK ||
        trt_writer_add(out, e->name, e->dtype, e->rank, e->dims, e->data,
                       e->nbytes, err, sizeof(err)) != TRT_OK) {
      error() << err << "\n";
      return failure();
    }
  }
  for (const auto &[name, bytes] : tok.entries) {
    uint64_t n = bytes.size();
    if (trt_writer_add(out, name.c_str(), TRT_DTYPE_BYTES, 1, &n, bytes.data(),
                       n, err, sizeof(err)) != TRT_OK) {
      error() << err << "\n";
      return failure();
    }
  }
  if (trt_writer_finish(out, err, sizeof(err)) != TRT_OK) {
    error() << err << "\n";
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LLVM
//===----------------------------------------------------------------------===//

/// Adds `void trt_call_<name>(void **args)` calling `_mlir_ciface_<name>`
/// with args[0..n), so the runtime calls every function the same way.
LogicalResult addCallWrappers(llvm::Module &m,
                              ArrayRef<FunctionSignature> sigs) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(ctx);
  for (const FunctionSignature &sig : sigs) {
    llvm::Function *callee = m.getFunction("_mlir_ciface_" + sig.spec.name);
    if (!callee || callee->arg_size() != sig.args.size()) {
      error() << "internal: no C interface for " << sig.spec.name << "\n";
      return failure();
    }
    auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr},
                                         /*isVarArg=*/false);
    auto *fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage,
                                      "trt_call_" + sig.spec.name, m);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
    SmallVector<llvm::Value *> args;
    for (unsigned i = 0; i < sig.args.size(); ++i) {
      llvm::Value *slot =
          b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), i, "slot");
      args.push_back(b.CreateLoad(ptr, slot));
    }
    b.CreateCall(callee, args);
    b.CreateRetVoid();
  }
  return success();
}

LogicalResult emitObject(ModuleOp module, ArrayRef<FunctionSignature> sigs,
                         const Target &target, StringRef objectPath,
                         StringRef saveTemps) {
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "terminator-model");
  if (!llvmModule) {
    error() << "translation to LLVM IR failed\n";
    return failure();
  }
  if (failed(addCallWrappers(*llvmModule, sigs)))
    return failure();

  TargetDescription description{target.triple, target.cpu, target.features};
  std::string message;
  llvm::raw_string_ostream os(message);
  if (failed(emitObjectFile(*llvmModule, description, objectPath, saveTemps,
                            os))) {
    error() << message;
    return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// The model description and the link
//===----------------------------------------------------------------------===//

std::string cString(StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (uint8_t(c) < 0x20 || uint8_t(c) >= 0x7f) {
      out += llvm::formatv("\\{0:o3}", uint8_t(c)).str();
      continue;
    }
    out += c;
  }
  return out + "\"";
}

/// A layer a calibration program observes: weight entry and input width.
struct CalibLayer {
  std::string name;
  int64_t cols;
  /// The layer whose input this one shares (its statistics are the same),
  /// or -1 when it is observed itself.
  int32_t sameAs = -1;
};

std::string modelDescription(ArrayRef<FunctionSignature> sigs,
                             const Interface &iface, const Target &target,
                             const Tokenizer &tok, StringRef modelName,
                             StringRef archiveName, StringRef weights,
                             ArrayRef<CalibLayer> calib) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "// Generated by terminator-compile: the description of one compiled "
        "model.\n#include \"terminator/runtime.h\"\n\nextern \"C\" {\n";
  for (const FunctionSignature &sig : sigs)
    os << "void trt_call_" << sig.spec.name << "(void **);\n";
  for (const FunctionSignature &sig : sigs) {
    os << "static const trt_arg args_" << sig.spec.name << "[] = {\n";
    for (auto [arg, name] : llvm::zip(sig.args, sig.names)) {
      os << "  {" << arg.role << ", " << arg.layer << ", " << arg.dtype << ", "
         << arg.rank << ", {";
      for (int d = 0; d < arg.rank; ++d)
        os << (d ? ", " : "") << arg.shape[d];
      os << "}, " << cString(name) << "},\n";
    }
    os << "};\n";
  }
  if (!calib.empty()) {
    os << "static const trt_calib_layer calib_layers[] = {\n";
    for (const CalibLayer &l : calib)
      os << "  {" << cString(l.name) << ", " << l.cols << ", " << l.sameAs
         << "},\n";
    os << "};\n";
  }
  os << "static const trt_function functions[] = {\n";
  for (const FunctionSignature &sig : sigs)
    os << "  {" << cString(sig.spec.name) << ", trt_call_" << sig.spec.name
       << ", " << sig.spec.seq << ", " << sig.spec.past << ", "
       << sig.args.size() << ", args_" << sig.spec.name << "},\n";
  os << "};\n";
  os << "const trt_model_info trt_model = {\n"
     << "  TRT_MODEL_ABI_VERSION, " << cString(modelName) << ", "
     << cString(target.name) << ", " << cString(target.required) << ",\n  "
     << cString(archiveName) << ", " << cString(tok.format) << ",\n  "
     << cString(weights) << ",\n  " << iface.vocab << ", " << iface.context
     << ", " << iface.layers << ", " << iface.bos << ", " << iface.eos << ", "
     << sigs.size() << ", functions, " << calib.size() << ", "
     << (calib.empty() ? "nullptr" : "calib_layers") << "};\n";
  os << "}\n\nint main(int argc, char **argv) {\n"
        "  return trt_program_main(&trt_model, argc, argv);\n}\n";
  return s;
}

LogicalResult link(const CompileOptions &options, const Target &target,
                   StringRef object, StringRef description, StringRef exe) {
  bool arm = target.triple.rfind("aarch64", 0) == 0;
  std::string runtimeDir =
      !options.runtimeLibDir.empty() ? options.runtimeLibDir
      : arm ? std::string(TERMINATOR_RUNTIME_AARCH64_LIB_DIR)
            : std::string(TERMINATOR_RUNTIME_LIB_DIR);
  std::string lib = runtimeDir + "/libterminator_rt.a";
  if (!llvm::sys::fs::exists(lib)) {
    error() << "the runtime library " << lib << " for " << target.triple
            << " does not exist; "
            << (arm ? "install g++-aarch64-linux-gnu and rebuild (the build "
                      "cross-compiles the runtime when the toolchain is "
                      "there), or pass --runtime-dir"
                    : "build it (see docs/compile.md) and pass --runtime-dir")
            << "\n";
    return failure();
  }
  std::string cxx = TERMINATOR_CXX_COMPILER;
  std::vector<std::string> argv = {cxx,
                                   "--target=" + target.triple,
                                   "-O2",
                                   "-std=c++17",
                                   "-I" TERMINATOR_RUNTIME_INCLUDE_DIR,
                                   description.str(),
                                   object.str(),
                                   lib,
                                   "-lm",
                                   "-lpthread",
                                   "-o",
                                   exe.str()};
  // Static for aarch64: the program then runs under qemu-aarch64 and on a
  // board without the cross toolchain's libraries.
  if (arm)
    argv.insert(argv.begin() + 2, "-static");
  SmallVector<StringRef> refs(argv.begin(), argv.end());
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(cxx, refs, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error() << "linking the program failed (" << cxx << " exited with " << rc
            << (message.empty() ? "" : ": " + message) << ")\n";
    return failure();
  }
  return success();
}

/// Writes every entry of `inputs` to `dest`; an entry name seen before is
/// skipped (calibration.rows / .info of later stages).
LogicalResult mergeArchives(ArrayRef<std::string> inputs, StringRef dest) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_writer *out = nullptr;
  llvm::scope_exit closeOut([&] { trt_writer_destroy(out); });
  if (trt_writer_create(dest.str().c_str(), &out, err, sizeof(err)) != TRT_OK) {
    error() << err << "\n";
    return failure();
  }
  llvm::StringSet<> names;
  for (const std::string &path : inputs) {
    trt_archive *in = nullptr;
    llvm::scope_exit closeIn([&] { trt_archive_close(in); });
    if (trt_archive_open(path.c_str(), TRT_ARCHIVE_NO_VERIFY, &in, err,
                         sizeof(err)) != TRT_OK) {
      error() << err << "\n";
      return failure();
    }
    for (uint32_t i = 0; i < trt_archive_entry_count(in); ++i) {
      const trt_entry *e = trt_archive_entry_at(in, i);
      if (!names.insert(e->name).second)
        continue;
      if (trt_writer_add(out, e->name, e->dtype, e->rank, e->dims, e->data,
                         e->nbytes, err, sizeof(err)) != TRT_OK) {
        error() << err << "\n";
        return failure();
      }
    }
  }
  if (trt_writer_finish(out, err, sizeof(err)) != TRT_OK) {
    error() << err << "\n";
    return failure();
  }
  return success();
}

/// Makes every linear layer whose weight is in `only` report its input to
/// the runtime's calibration hook (`trt_calib_observe(id, x as [rows,
/// cols])`); returns the layers in id order.
std::vector<CalibLayer> instrumentLinears(ModuleOp module,
                                          const llvm::StringSet<> &only) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  Location loc = module.getLoc();
  Type f32 = b.getF32Type(), i64 = b.getI64Type();
  auto rows =
      RankedTensorType::get({ShapedType::kDynamic, ShapedType::kDynamic}, f32);
  b.setInsertionPointToEnd(module.getBody());
  auto hook = func::FuncOp::create(b, loc, "trt_calib_observe",
                                   b.getFunctionType({i64, rows}, {}));
  hook.setPrivate();
  hook->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  std::vector<CalibLayer> layers;
  llvm::StringMap<int64_t> ids;
  llvm::DenseMap<Value, int64_t> observed; // input value -> observing layer
  module.walk([&](ternary::LinearOp op) {
    StringRef key = weightKey(op.getWeight());
    if (key.empty() || !only.contains(key))
      return;
    int64_t cols = op.getWeight().getType().getDimSize(1);
    Value x = op.getInput();
    // Layers fed by one value (q, k, v; gate, up) share its statistics: it
    // is observed once, for the first of them.
    auto source = observed.find(x);
    if (source != observed.end() && !ids.count(key)) {
      ids[key] = int64_t(layers.size());
      layers.push_back({key.str(), cols, int32_t(source->second)});
      return;
    }
    auto [it, added] = ids.try_emplace(key, int64_t(layers.size()));
    if (added)
      layers.push_back({key.str(), cols});
    if (layers[size_t(it->second)].sameAs >= 0)
      return; // its source observes this input's twin already
    observed.try_emplace(x, it->second);
    b.setInsertionPoint(op);
    auto type = cast<RankedTensorType>(x.getType());
    if (type.getRank() != 2)
      x = tensor::CollapseShapeOp::create(b, loc, x,
                                          leadingAndLastDims(type.getRank()));
    x = tensor::CastOp::create(b, loc, rows, x);
    Value id =
        arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(it->second));
    func::CallOp::create(b, loc, hook, ValueRange{id, x});
  });
  return layers;
}

/// Steps 4 to 6 for one module: the program's archive, code, link, into
/// `work/stem` and `work/stem.tpar`.
LogicalResult buildProgram(MLIRContext &context, ModuleOp module,
                           const Interface &iface,
                           ArrayRef<Specialization> specs, const Tokenizer &tok,
                           const Target &target, const CompileOptions &options,
                           StringRef work, StringRef stem, StringRef weights,
                           ArrayRef<CalibLayer> calib,
                           Progress *progress = nullptr) {
  auto stage = [&](const llvm::Twine &what) {
    if (progress)
      progress->stage(what);
  };
  target.description.attachTo(module);
  bool ternary = false;
  module.walk([&](ternary::QLinearOp) { ternary = true; });
  if (ternary && target.description.kernelIsa() != KernelIsa::None) {
    stage("packing ternary weights for the " +
          kernelIsaName(target.description.kernelIsa()) + " kernels");
    auto pm = PassManager::on<ModuleOp>(module->getContext());
    std::string pipeline =
        ("ternary-pack{output-archive=" + work + "/" + stem + "-packed.tpar}")
            .str();
    if (failed(parsePassPipeline(pipeline, pm, llvm::errs())) ||
        failed(pm.run(module)))
      return failure();
  }
  stage("writing the weights");
  auto sigs = signatures(module, iface, specs, options);
  if (failed(sigs))
    return failure();
  std::string archiveName = (stem + ".tpar").str();
  std::string source = module
                           ->getAttrOfType<StringAttr>(
                               ternary::TernaryDialect::getArchiveAttrName())
                           .str();
  std::vector<std::string> records;
  if (auto list = module->getAttrOfType<ArrayAttr>(
          ternary::TernaryDialect::getRecordsAttrName()))
    for (auto name : list.getAsValueRange<StringAttr>())
      records.push_back(name.str());
  if (failed(writeProgramArchive(source, (work + "/" + archiveName).str(),
                                 *sigs, records, tok)))
    return failure();

  stage("generating code for " + target.name + " (" + target.cpu + ")");
  for (auto func : module.getOps<func::FuncOp>())
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
  PassManager pm(&context);
  buildAotToLLVMPipeline(pm);
  if (failed(pm.run(module)))
    return failure();
  std::string object = (work + "/" + stem + ".o").str();
  if (failed(emitObject(module, *sigs, target, object,
                        progress ? options.saveTemps : "")))
    return failure();

  stage("linking");
  std::string descriptionPath = (work + "/" + stem + "-info.cpp").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(descriptionPath, ec);
    if (ec) {
      error() << "cannot write " << descriptionPath << ": " << ec.message()
              << "\n";
      return failure();
    }
    os << modelDescription(*sigs, iface, target, tok, stem, archiveName,
                           weights, calib);
  }
  if (failed(link(options, target, object, descriptionPath,
                  (work + "/" + stem).str())))
    return failure();
  if (!options.saveTemps.empty() && progress)
    for (const std::string &f : {object, descriptionPath})
      llvm::sys::fs::copy_file(f, options.saveTemps + "/" +
                                      llvm::sys::path::filename(f).str());
  return success();
}

} // namespace

int mlir::terminator::compileModel(const CompileOptions &options) {
  std::optional<Target> target = resolveTarget(options);
  if (!target)
    return 2;
  llvm::InitializeAllTargetInfos();
  llvm::InitializeAllTargets();
  llvm::InitializeAllTargetMCs();
  llvm::InitializeAllAsmPrinters();

  DialectRegistry registry;
  registerEverything(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  bool packs =
      options.ternarize && target->description.kernelIsa() != KernelIsa::None;
  Progress progress((packs ? 7 : 6) +
                    (options.calibTextPath.empty()
                         ? 0
                         : int(std::max<int64_t>(1, options.calibStages))));
  progress.stage("reading " + options.modelPath);
  FailureOr<OnnxModelInfo> info = describeOnnxModel(context, options.modelPath);
  if (failed(info))
    return progress.fail(), 1;
  std::optional<Interface> iface =
      analyzeInterface(*info, options, options.modelPath);
  if (!iface)
    return progress.fail(), 1;
  std::optional<Tokenizer> tok = loadTokenizer(options, *info);
  if (!tok)
    return progress.fail(), 1;
  std::vector<Specialization> specs = specializations(*iface, options);
  for (const Specialization &s : specs)
    if (s.seq > iface->context) {
      progress.fail();
      error() << "prefill length " << s.seq << " exceeds the context length "
              << iface->context << "\n";
      return 2;
    }

  // A work folder next to the output, so the final renames stay on one
  // file system.
  SmallString<256> outDir(llvm::sys::path::parent_path(options.outputPath));
  if (outDir.empty())
    outDir = ".";
  SmallString<256> work;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(
          outDir + "/.terminator-compile", work)) {
    progress.fail();
    error() << "cannot create a work folder in " << outDir << ": "
            << ec.message() << "\n";
    return 1;
  }
  llvm::scope_exit removeWork([&] { llvm::sys::fs::remove_directories(work); });
  if (!options.saveTemps.empty())
    llvm::sys::fs::create_directories(options.saveTemps);
  std::string tmp = std::string(work);

  // A calibration program first, when asked for: it observes the inputs of
  // every linear layer on the text, in f32.
  std::string stats = options.calibPath;
  // Precisions chosen before sequential calibration (mixed precision with
  // several stages), by archive key; empty otherwise.
  llvm::StringMap<std::string> chosen;
  if (!options.calibTextPath.empty()) {
    if (tok->format == "none") {
      progress.fail();
      error() << "--calib-text needs a tokenizer\n";
      return 2;
    }
    int64_t seqLen = options.calibSeqLen
                         ? options.calibSeqLen
                         : std::min<int64_t>(2048, iface->context);
    if (seqLen > iface->context || seqLen < 2) {
      progress.fail();
      error() << "--calib-seq-len " << seqLen
              << " must be in [2, context length " << iface->context << "]\n";
      return 2;
    }
    std::vector<Specialization> calibSpecs = {
        {"calibrate_" + std::to_string(seqLen), seqLen, 0, false}};
    // Stage k observes its layers with the layers of stages < k already
    // ternarized (sequential calibration); one stage observes every layer
    // of the f32 model at once.
    std::vector<std::vector<std::string>> stages;
    {
      FailureOr<OwningOpRef<ModuleOp>> probe =
          importAll(context, options, *iface, calibSpecs, "");
      if (failed(probe))
        return progress.fail(), 1;
      // The layers in program order, grouped by the value they read (q, k
      // and v; gate and up): a stage never splits a group, so layers that
      // share an input are observed behind the same ternarized layers.
      std::vector<std::vector<std::string>> groups;
      llvm::DenseMap<Value, size_t> groupOf;
      llvm::StringSet<> seen;
      (**probe).walk([&](ternary::LinearOp op) {
        StringRef key = weightKey(op.getWeight());
        if (key.empty() || !seen.insert(key).second)
          return;
        auto [it, inserted] = groupOf.try_emplace(op.getInput(), groups.size());
        if (inserted)
          groups.emplace_back();
        groups[it->second].push_back(key.str());
      });
      // K stages of consecutive groups (K at most the number of groups):
      // stage s opens once s/K of the layers are placed, or when the groups
      // left are only enough for the stages left.
      size_t total = 0;
      for (const auto &g : groups)
        total += g.size();
      size_t n = options.calibStages == 0
                     ? groups.size()
                     : size_t(std::max<int64_t>(
                           1, std::min<int64_t>(options.calibStages,
                                                int64_t(groups.size()))));
      size_t placed = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        if (stages.empty() ||
            (stages.size() < n && (placed * n >= stages.size() * total ||
                                   groups.size() - g <= n - stages.size())))
          stages.emplace_back();
        stages.back().insert(stages.back().end(), groups[g].begin(),
                             groups[g].end());
        placed += groups[g].size();
      }
      progress.addStages(int(stages.size()) -
                         int(std::max<int64_t>(1, options.calibStages)));
    }
    // Asymmetric calibration: stage 0's program (the f32 model) observes
    // every layer and serves later stages as the teacher that streams the
    // f32 model's inputs of their layers (docs/calibration.md).
    const bool teacher = stages.size() > 1 && options.method == "pt2" &&
                         options.fitTarget == "fp";
    // Mixed precision with several stages: stage 0 sums every layer of the
    // f32 model, the precisions are chosen on those statistics, and later
    // stages calibrate behind layers at their final precision.
    const bool precisionFirst =
        stages.size() > 1 && options.bitsPerWeight > 0 && options.ternarize;
    const bool observeAll = teacher || precisionFirst;
    std::string teacherExe, chosenSummary;
    std::vector<std::string> done, stageFiles;
    for (size_t k = 0; k < stages.size(); ++k) {
      progress.stage(llvm::formatv(
          "calibration stage {0}/{1}: {2} layers{3}{4}\n", k + 1, stages.size(),
          stages[k].size(),
          teacher && k > 0 ? ", fitting the f32 program's outputs" : "",
          k > 0 ? chosenSummary
          : precisionFirst
              ? ", every layer's f32 statistics for choosing precisions"
              : ""));
      std::string sk = std::to_string(k);
      FailureOr<OwningOpRef<ModuleOp>> calibModule =
          importAll(context, options, *iface, calibSpecs,
                    tmp + "/calib-import-" + sk + ".tpar");
      if (failed(calibModule))
        return progress.fail(), 1;
      if (!done.empty()) {
        CompileOptions partial = options;
        partial.onlyLayers = done;
        markPrecisions(**calibModule, chosen);
        if (failed(ternarize(
                **calibModule, partial, tmp + "/calib-ternary-" + sk + ".tpar",
                tmp + "/calib-merged-" + std::to_string(k - 1) + ".tpar")))
          return progress.fail(), 1;
      }
      // Choosing precisions needs the uninstrumented model; a copy of stage
      // 1's module reads the weights stage 1's import wrote.
      OwningOpRef<ModuleOp> selectModule;
      if (precisionFirst && k == 0)
        selectModule = (**calibModule).clone();
      llvm::StringSet<> observe;
      for (size_t j = k == 0 && observeAll ? 0 : k;
           j < (k == 0 && observeAll ? stages.size() : k + 1); ++j)
        for (const std::string &l : stages[j])
          observe.insert(l);
      std::vector<CalibLayer> layers =
          instrumentLinears(**calibModule, observe);
      std::string exeName = "calibration-program-" + sk;
      if (failed(buildProgram(context, **calibModule, *iface, calibSpecs, *tok,
                              *target, options, tmp, exeName,
                              "calibration program", layers)))
        return progress.fail(), 1;
      std::string exe = tmp + "/" + exeName;
      if (!options.saveTemps.empty())
        for (std::string f : {exeName, exeName + ".tpar"})
          if (std::error_code ec = llvm::sys::fs::copy_file(
                  tmp + "/" + f, options.saveTemps + "/" + f)) {
            progress.fail();
            error() << "cannot copy " << f << " to " << options.saveTemps
                    << ": " << ec.message() << "\n";
            return 1;
          }
      if (!options.saveTemps.empty())
        llvm::sys::fs::setPermissions(options.saveTemps + "/" + exeName,
                                      llvm::sys::fs::perms(0755));
      stageFiles.push_back(tmp + "/calib-stage-" + sk + ".tpar");
      std::vector<std::string> argv = {exe,
                                       "calibrate",
                                       options.calibTextPath,
                                       "-o",
                                       stageFiles.back(),
                                       "--samples",
                                       std::to_string(options.calibSamples),
                                       "--seq-len",
                                       std::to_string(seqLen),
                                       "--seed",
                                       std::to_string(options.seed)};
      if (teacher && k == 0) {
        if (!precisionFirst) {
          argv.push_back("--layers");
          argv.push_back(llvm::join(stages[0], ","));
        }
        teacherExe = exe;
      } else if (teacher) {
        argv.push_back("--teacher");
        argv.push_back(teacherExe);
      }
      SmallVector<StringRef> refs(argv.begin(), argv.end());
      std::string message;
      if (int rc = llvm::sys::ExecuteAndWait(exe, refs, std::nullopt, {}, 0, 0,
                                             &message)) {
        progress.fail();
        error() << "calibration failed (exit " << rc
                << (message.empty() ? "" : ": " + message) << ")\n";
        return 1;
      }
      stats = tmp + "/calib-merged-" + sk + ".tpar";
      // Later stages first: their statistics of a layer replace the f32
      // ones that stage 0 sums for choosing precisions.
      std::vector<std::string> newestFirst(stageFiles.rbegin(),
                                           stageFiles.rend());
      if (failed(mergeArchives(newestFirst, stats)))
        return progress.fail(), 1;
      if (precisionFirst && k == 0) {
        markPrecisions(*selectModule,
                       headPrecision(*selectModule, *iface, options));
        FailureOr<llvm::StringMap<std::string>> picked =
            choosePrecisions(*selectModule, options, stats);
        if (failed(picked))
          return progress.fail(), 1;
        chosen = std::move(*picked);
        std::map<std::string, int> counts;
        for (const auto &entry : chosen)
          ++counts[entry.getValue()];
        chosenSummary = ", behind the chosen precisions (";
        for (const auto &[name, n] : counts)
          chosenSummary += (chosenSummary.back() == '(' ? "" : ", ") +
                           std::to_string(n) + " " + name;
        chosenSummary += ")";
      }
      done.insert(done.end(), stages[k].begin(), stages[k].end());
    }
    progress.finish();
    if (!options.saveCalib.empty()) {
      if (std::error_code ec =
              llvm::sys::fs::copy_file(stats, options.saveCalib)) {
        error() << "cannot write " << options.saveCalib << ": " << ec.message()
                << "\n";
        return 1;
      }
    }
  }

  progress.stage(llvm::formatv("importing {0} specializations", specs.size()));
  FailureOr<OwningOpRef<ModuleOp>> module =
      importAll(context, options, *iface, specs, tmp + "/import.tpar");
  if (failed(module))
    return progress.fail(), 1;

  // The output head keeps --head's precision (int8 by default), marked
  // like mixed precision marks a layer, so that ternarization obeys it and
  // select-precision leaves it out of the budget.
  // An int8 layer named by --int8-layers is an int8 layer like the others.
  llvm::StringMap<std::string> head = headPrecision(**module, *iface, options);
  std::string headKey =
      head.empty() ? std::string() : head.begin()->getKey().str();
  markPrecisions(**module, head);
  if (options.ternarize) {
    progress.stage("ternarizing (" + options.method + ")" +
                   (showsTernarizeProgress(**module) ? "\n" : ""));
    // Precisions chosen before the calibration stages are the final ones.
    CompileOptions finalOptions = options;
    if (!chosen.empty()) {
      markPrecisions(**module, chosen);
      finalOptions.bitsPerWeight = 0;
    }
    if (failed(ternarize(**module, finalOptions, tmp + "/ternary.tpar", stats)))
      return progress.fail(), 1;
  } else {
    progress.stage("keeping f32 weights (--no-ternarize)");
  }
  std::string weights = describeWeights(**module, options, headKey);
  if (!stats.empty() && options.ternarize)
    weights += ", calibrated";

  StringRef stem = llvm::sys::path::filename(options.outputPath);
  if (failed(buildProgram(context, **module, *iface, specs, *tok, *target,
                          options, tmp, stem, weights, {}, &progress)))
    return progress.fail(), 1;
  progress.finish();
  std::string archiveName = (stem + ".tpar").str();
  std::string exe = tmp + "/" + stem.str();

  // Move both outputs into place.
  std::string finalArchive = options.outputPath + ".tpar";
  if (std::error_code ec =
          llvm::sys::fs::rename(tmp + "/" + archiveName, finalArchive)) {
    error() << "cannot write " << finalArchive << ": " << ec.message() << "\n";
    return 1;
  }
  if (std::error_code ec = llvm::sys::fs::rename(exe, options.outputPath)) {
    llvm::sys::fs::remove(finalArchive);
    error() << "cannot write " << options.outputPath << ": " << ec.message()
            << "\n";
    return 1;
  }

  llvm::errs() << "wrote " << options.outputPath << " and " << finalArchive
               << " (" << weights << ")\n";
  return 0;
}
