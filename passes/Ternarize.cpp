//===- Ternarize.cpp - replace linear layers by ternary ones --------------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/WeightData.h"
#include "passes/solvers/Als.h"
#include "passes/solvers/Asymmetric.h"
#include "passes/solvers/Metrics.h"
#include "passes/solvers/Ternary.h"
#include "terminator/runtime.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>

#define DEBUG_TYPE "ternary-ternarize"

namespace solvers = ::terminator::solvers;

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYTERNARIZEPASS
#include "passes/Passes.h.inc"

namespace {
struct TernaryTernarizePass
    : impl::TernaryTernarizePassBase<TernaryTernarizePass> {
  using Base::Base;
  void runOnOperation() override;

private:
  /// Quantizes `w` with the pass's method; `h` is the calibration Gram
  /// matrix of its inputs or null.
  solvers::Result<solvers::TernaryMatrix> solve(solvers::MatrixView w,
                                                solvers::MatrixView h);
  LogicalResult ternarize(LinearOp linear);
  /// A new weight op holding `values` of `type`: inline, or as the archive
  /// entry `key` (written to the output archive).
  Value makeWeight(OpBuilder &b, Location loc, RankedTensorType type,
                   StringRef key, ArrayRef<char> bytes, trt_dtype dtype,
                   bool toArchive);

  /// Writes `records` to `report` (JSON) and as a table to stderr.
  LogicalResult writeReport(ModuleOp module);

  /// What an archive weight became, so that a weight shared by several
  /// functions (specializations of one model) is solved and written once.
  struct Done {
    WeightEncodingAttrInterface encoding;
    int64_t groups;
    bool hasOffsets;
  };
  llvm::StringMap<Done> done;

  solvers::Granularity granularity = solvers::Granularity::Row;
  bool f16Scales = false; ///< scale-type=f16
  llvm::json::Array records;
  trt_archive *input = nullptr;
  trt_archive *stats = nullptr;
  trt_writer *writer = nullptr;
  std::string inputPath;
  bool writeFailed = false;
};
} // namespace
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;

solvers::Result<solvers::TernaryMatrix>
TernaryTernarizePass::solve(solvers::MatrixView w, solvers::MatrixView h) {
  if (method == "pt2") {
    solvers::GptqOptions options;
    options.blockSize = blockSize;
    options.percdamp = percdamp;
    options.fit =
        groupFit == "aga" ? solvers::GroupFit::Aga : solvers::GroupFit::Itf;
    return solvers::gptq(w, h, options);
  }
  if (method == "als") {
    solvers::AlsOptions options;
    options.granularity = granularity;
    options.groupSize = blockSize;
    return solvers::als(w, options);
  }
  if (method == "itf") {
    solvers::AsymmetricOptions options;
    options.blockSize = blockSize;
    return solvers::itf(w, options);
  }
  return solvers::absmean(w, granularity);
}

Value TernaryTernarizePass::makeWeight(OpBuilder &b, Location loc,
                                       RankedTensorType type, StringRef key,
                                       ArrayRef<char> bytes, trt_dtype dtype,
                                       bool toArchive) {
  Value v = makeWeightValue(b, loc, type, key, bytes, dtype,
                            toArchive ? writer : nullptr, outputArchive,
                            "ternary-ternarize");
  if (!v) {
    writeFailed = true;
    return WeightOp::create(
        b, loc, cast<TypedAttr>(ParamAttr::get(b.getContext(), key, type)));
  }
  return v;
}

LogicalResult TernaryTernarizePass::ternarize(LinearOp linear) {
  // Mixed precision may keep a layer in f32: it stays a ternary.linear.
  if (auto precision = linear->getAttrOfType<StringAttr>(
          TernaryDialect::getPrecisionAttrName());
      precision && precision.getValue() == "f32")
    return success();
  if (auto w = linear.getWeight().getDefiningOp<WeightOp>()) {
    auto param = dyn_cast<ParamAttr>(w.getValue());
    auto it = param ? done.find(param.getKey()) : done.end();
    if (it != done.end()) {
      // Solved already for another function: refer to the same entries.
      OpBuilder b(linear);
      Location loc = linear.getLoc();
      int64_t n = linear.getWeight().getType().getDimSize(0);
      int64_t k = linear.getWeight().getType().getDimSize(1);
      auto entry = [&](StringRef suffix, RankedTensorType type) -> Value {
        return WeightOp::create(
            b, loc,
            cast<TypedAttr>(ParamAttr::get(
                b.getContext(), (param.getKey() + suffix).str(), type)));
      };
      auto metaType = RankedTensorType::get({n, it->second.groups},
                                            it->second.encoding.getScaleType());
      Value codes =
          entry(".codes", RankedTensorType::get({n, k}, b.getI8Type()));
      Value scales = entry(".scales", metaType);
      Value offsets =
          it->second.hasOffsets ? entry(".offsets", metaType) : Value();
      auto qlinear = QLinearOp::create(
          b, loc, linear.getType(), linear.getInput(), codes, scales, offsets,
          linear.getBias(), it->second.encoding);
      linear.replaceAllUsesWith(qlinear.getResult());
      linear.erase();
      if (w->use_empty())
        w.erase();
      return success();
    }
  }
  FailureOr<SmallVector<float>> values =
      readLinearWeight(linear, input, inputPath);
  if (failed(values))
    return failure();
  auto weight = linear.getWeight().getDefiningOp<WeightOp>();
  auto param = dyn_cast<ParamAttr>(weight.getValue());
  RankedTensorType weightType = linear.getWeight().getType();
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  auto precision =
      linear->getAttrOfType<StringAttr>(TernaryDialect::getPrecisionAttrName());
  // Integer bits of a layer kept at int8 or int4 (0: ternary).
  unsigned intBits = 0;
  if ((precision && precision.getValue() == "int8") ||
      (param && llvm::any_of(int8Layers, [&](const std::string &name) {
         return name == param.getKey();
       })))
    intBits = 8;
  else if (precision && precision.getValue() == "int4")
    intBits = 4;
  else if (precision && precision.getValue() != "ternary")
    return linear.emitOpError("unknown ternary.precision '")
           << precision.getValue() << "' (ternary, int4, int8 or f32)";
  std::vector<float> hessianStorage;
  FailureOr<solvers::MatrixView> h = readHessian(
      linear, stats, param ? param.getKey() : StringRef(), k, hessianStorage);
  if (failed(h))
    return failure();
  if (method == "pt2" && !intBits && h->isNull())
    return linear.emitOpError("cannot be ternarized with pt2: it needs the "
                              "calibration Gram matrix; set calibration=FILE "
                              "(terminator-compile --calib-text)");
  // What pt2 fits: W, or with asymmetric calibration the weights whose
  // outputs on this layer's (quantized-model) inputs match the f32 model's.
  const bool gptqRuns = method == "pt2" && !h->isNull();
  solvers::MatrixView target{values->data(), n, k};
  std::vector<float> targetStorage, crossStorage;
  bool fitsFp = false;
  if (gptqRuns && fitTarget == "fp") {
    FailureOr<solvers::MatrixView> cross = readCross(
        linear, stats, param ? param.getKey() : StringRef(), k, crossStorage);
    if (failed(cross))
      return failure();
    if (!cross->isNull()) {
      solvers::Result<std::vector<float>> t =
          solvers::fpOutputTarget(target, *h, *cross, percdamp);
      if (!t)
        return linear.emitOpError("cannot fit the f32 outputs: ") << t.error();
      targetStorage = std::move(*t);
      target = {targetStorage.data(), n, k};
      fitsFp = true;
    }
  }
  // Integer layers: GPTQ with symmetric codes under pt2 (calibrated),
  // plain rounding otherwise.
  int64_t intGroup = intBits == 4 ? int64_t(int4Group) : 0;
  solvers::Result<solvers::TernaryMatrix> q = [&] {
    if (!intBits)
      return solve(target, *h);
    if (!gptqRuns)
      return solvers::symmetricInt(target, intBits, intGroup);
    solvers::GptqOptions options;
    options.blockSize = intGroup;
    options.percdamp = percdamp;
    options.intBits = intBits;
    return solvers::gptq(target, *h, options);
  }();
  if (!q)
    return linear.emitOpError("cannot be ternarized: ") << q.error();
  if (gptqRuns && refitScales)
    if (std::optional<solvers::Error> e =
            solvers::refitScales(*q, target, *h, percdamp))
      return linear.emitOpError("cannot refit its scales: ") << e->message;
  int64_t groups = q->groupsPerRow();
  // Stored as f16, the rounded values are what every later step (and the
  // report's errors) sees.
  std::vector<uint16_t> scalesF16, offsetsF16;
  if (f16Scales) {
    scalesF16 = roundToF16(q->scales);
    offsetsF16 = roundToF16(q->offsets);
    auto notFinite = [](float v) { return !std::isfinite(v); };
    if (llvm::any_of(q->scales, notFinite) ||
        llvm::any_of(q->offsets, notFinite))
      return linear.emitOpError("cannot store its scales or offsets as f16: "
                                "a value exceeds the f16 range (65504); use "
                                "scale-type=f32 (terminator-compile "
                                "--scale-type f32)");
  }

  OpBuilder b(linear);
  Location loc = linear.getLoc();
  bool toArchive = bool(param);
  std::string base = param ? param.getKey().str() : std::string("ternary");
  auto bytesOf = [](const auto &v) {
    return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                          v.size() * sizeof(v[0]));
  };
  Value codes =
      makeWeight(b, loc, RankedTensorType::get({n, k}, b.getI8Type()),
                 base + ".codes", bytesOf(q->codes), TRT_DTYPE_I8, toArchive);
  FloatType scaleType =
      f16Scales ? FloatType(b.getF16Type()) : FloatType(b.getF32Type());
  trt_dtype scaleDtype = f16Scales ? TRT_DTYPE_F16 : TRT_DTYPE_F32;
  auto metaType = RankedTensorType::get({n, groups}, scaleType);
  Value scales = makeWeight(b, loc, metaType, base + ".scales",
                            f16Scales ? bytesOf(scalesF16) : bytesOf(q->scales),
                            scaleDtype, toArchive);
  Value offsets;
  if (!q->offsets.empty())
    offsets = makeWeight(b, loc, metaType, base + ".offsets",
                         f16Scales ? bytesOf(offsetsF16) : bytesOf(q->offsets),
                         scaleDtype, toArchive);
  int64_t block = q->groupSize == k ? 0 : q->groupSize;
  WeightEncodingAttrInterface encoding =
      intBits
          ? cast<WeightEncodingAttrInterface>(
                IntEncodingAttr::get(b.getContext(), intBits, block, scaleType))
          : cast<WeightEncodingAttrInterface>(TernaryEncodingAttr::get(
                b.getContext(), block, /*offset=*/bool(offsets), scaleType));
  auto qlinear =
      QLinearOp::create(b, loc, linear.getType(), linear.getInput(), codes,
                        scales, offsets, linear.getBias(), encoding);
  if (param)
    done[param.getKey()] = Done{encoding, groups, bool(offsets)};
  if (!report.empty()) {
    // Errors against what was fitted (W̃ with asymmetric calibration).
    solvers::MatrixView view = target;
    llvm::json::Value outputError = nullptr;
    if (!h->isNull())
      if (solvers::Result<double> e =
              solvers::relativeOutputError(view, *q, *h))
        outputError = *e;
    solvers::CodeBalance balance = solvers::codeBalance(*q);
    std::string encodingText;
    llvm::raw_string_ostream os(encodingText);
    os << encoding;
    records.push_back(llvm::json::Object{
        {"name", param ? param.getKey().str() : std::string("(inline)")},
        {"rows", n},
        {"cols", k},
        {"method",
         intBits ? "int" + std::to_string(intBits) : std::string(method)},
        {"fit_target", fitsFp ? "fp" : "self"},
        {"encoding", encodingText},
        {"bits_per_weight", encoding.getBitsPerWeight(n, k)},
        {"relative_frobenius_error", solvers::relativeFrobeniusError(view, *q)},
        {"relative_output_error", outputError},
        {"sparsity", solvers::sparsity(*q)},
        {"code_balance",
         llvm::json::Array{balance.minusOne, balance.zero, balance.plusOne}}});
  }
  linear.replaceAllUsesWith(qlinear.getResult());
  linear.erase();
  if (weight->use_empty())
    weight.erase();
  return success();
}

LogicalResult TernaryTernarizePass::writeReport(ModuleOp module) {
  double bits = 0, weights = 0;
  llvm::errs() << llvm::format("%-40s %11s %-8s %9s %9s %9s %8s\n", "layer",
                               "shape", "method", "bits/w", "rel.frob",
                               "rel.out", "zeros");
  for (const llvm::json::Value &v : records) {
    const llvm::json::Object &r = *v.getAsObject();
    int64_t n = *r.getInteger("rows"), k = *r.getInteger("cols");
    std::string shape = std::to_string(n) + "x" + std::to_string(k);
    std::optional<double> out = r.getNumber("relative_output_error");
    std::string outText =
        out ? llvm::formatv("{0:F4}", *out).str() : std::string("-");
    llvm::errs() << llvm::format(
        "%-40s %11s %-8s %9.3f %9.4f %9s %8.3f\n",
        r.getString("name")->str().c_str(), shape.c_str(),
        r.getString("method")->str().c_str(), *r.getNumber("bits_per_weight"),
        *r.getNumber("relative_frobenius_error"), outText.c_str(),
        *r.getNumber("sparsity"));
    bits += *r.getNumber("bits_per_weight") * double(n * k);
    weights += double(n * k);
  }
  double mean = weights > 0 ? bits / weights : 0.0;
  llvm::errs() << llvm::format("%zu layers, %.0f weights, %.3f real bits per "
                               "linear weight\n",
                               records.size(), weights, mean);
  llvm::json::Object doc{{"layers", std::move(records)},
                         {"linear_weights", weights},
                         {"bits_per_linear_weight", mean}};
  if (llvm::Error e = llvm::writeToOutput(report, [&](llvm::raw_ostream &os) {
        os << llvm::formatv("{0:2}", llvm::json::Value(std::move(doc))) << "\n";
        return llvm::Error::success();
      })) {
    module.emitError("ternary-ternarize: cannot write the report ")
        << report << ": " << llvm::toString(std::move(e));
    return failure();
  }
  return success();
}

void TernaryTernarizePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (int4Group < 0) {
    module.emitError("ternary-ternarize: int4-group must be >= 0 (0: one "
                     "scale per row)");
    return signalPassFailure();
  }
  if (groupFit != "itf" && groupFit != "aga") {
    module.emitError("ternary-ternarize: unknown group-fit '")
        << groupFit << "'; expected itf or aga";
    return signalPassFailure();
  }
  if (fitTarget != "fp" && fitTarget != "self") {
    module.emitError("ternary-ternarize: unknown fit-target '")
        << fitTarget << "'; expected fp or self";
    return signalPassFailure();
  }
  if (method != "absmean" && method != "als" && method != "itf" &&
      method != "pt2") {
    module.emitError("ternary-ternarize: unknown method '")
        << method << "'; expected absmean, als, itf or pt2";
    return signalPassFailure();
  }
  if (percdamp < 0) {
    module.emitError("ternary-ternarize: percdamp must be >= 0");
    return signalPassFailure();
  }
  if (scaleTypeName != "f32" && scaleTypeName != "f16") {
    module.emitError("ternary-ternarize: unknown scale-type '")
        << scaleTypeName << "'; expected f32 or f16";
    return signalPassFailure();
  }
  f16Scales = scaleTypeName == "f16";
  if (granularityName == "tensor")
    granularity = solvers::Granularity::Tensor;
  else if (granularityName == "row")
    granularity = solvers::Granularity::Row;
  else {
    module.emitError("ternary-ternarize: unknown granularity '")
        << granularityName << "'; expected tensor or row";
    return signalPassFailure();
  }
  if (blockSize < 0) {
    module.emitError("ternary-ternarize: block-size must be >= 0, but got ")
        << int64_t(blockSize);
    return signalPassFailure();
  }

  SmallVector<LinearOp> linears;
  bool usesArchive = false;
  llvm::StringSet<> only;
  for (const std::string &name : onlyLayers)
    only.insert(name);
  module.walk([&](LinearOp op) {
    auto w = op.getWeight().getDefiningOp<WeightOp>();
    auto param = w ? dyn_cast<ParamAttr>(w.getValue()) : nullptr;
    if (!only.empty() && (!param || !only.contains(param.getKey())))
      return;
    linears.push_back(op);
    usesArchive |= bool(param);
  });

  llvm::scope_exit cleanup([&] {
    trt_writer_destroy(writer);
    trt_archive_close(input);
    trt_archive_close(stats);
  });
  if (failed(openStatistics(module, calibration, getArgument(), stats)))
    return signalPassFailure();
  if (usesArchive &&
      failed(openArchives(module, outputArchive, "ternary-ternarize",
                          "ternarized weights", input, writer, inputPath)))
    return signalPassFailure();

  // With progress: one line per weight (a weight shared by several
  // functions is ternarized once, at its first use).
  llvm::StringSet<> seen;
  size_t total = 0, count = 0;
  if (progress)
    for (LinearOp linear : linears) {
      auto w = linear.getWeight().getDefiningOp<WeightOp>();
      auto param = w ? dyn_cast<ParamAttr>(w.getValue()) : nullptr;
      total += !param || seen.insert(param.getKey()).second;
    }
  seen.clear();
  bool failedAny = false;
  for (LinearOp linear : linears) {
    auto w = linear.getWeight().getDefiningOp<WeightOp>();
    auto param = w ? dyn_cast<ParamAttr>(w.getValue()) : nullptr;
    bool first = !param || seen.insert(param.getKey()).second;
    RankedTensorType type = linear.getWeight().getType(); // linear goes away
    auto start = std::chrono::steady_clock::now();
    failedAny |= failed(ternarize(linear));
    // Streaming: the weight and its statistics leave the resident set once
    // used, so memory stays near one layer's worth however big the model.
    if (param)
      for (auto [archive, name] :
           {std::pair(input, param.getKey().str()),
            std::pair(stats, (param.getKey() + ".hessian").str()),
            std::pair(stats, (param.getKey() + ".cross").str())}) {
        char err[TRT_ERROR_MESSAGE_SIZE];
        const trt_entry *entry = nullptr;
        if (archive && trt_archive_find(archive, name.c_str(), &entry, err,
                                        sizeof(err)) == TRT_OK)
          trt_archive_release_entry(archive, entry);
      }
    if (progress && first) {
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      llvm::errs() << llvm::formatv(
          "ternary-ternarize: {0}/{1} {2} {3}x{4} {5:F1} s\n", ++count, total,
          param ? param.getKey() : StringRef("(inline)"), type.getDimSize(0),
          type.getDimSize(1), seconds);
    }
  }
  if (failedAny || writeFailed)
    return signalPassFailure();
  if (!report.empty() && failed(writeReport(module)))
    return signalPassFailure();
  if (!usesArchive)
    return;

  if (failed(finishArchive(module, input, writer, outputArchive,
                           "ternary-ternarize")))
    return signalPassFailure();
}
