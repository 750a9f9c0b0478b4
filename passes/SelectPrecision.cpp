//===- SelectPrecision.cpp - a precision per layer under a budget --------===//
//
// Part of TerMinator. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/WeightData.h"
#include "passes/solvers/Metrics.h"
#include "passes/solvers/Ternary.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYSELECTPRECISIONPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;
namespace solvers = ::terminator::solvers;

namespace {

/// The precisions a layer can take, cheapest first (f32: not quantized).
constexpr const char *levelNames[] = {"ternary", "int4", "int8", "f32"};
constexpr unsigned levelIntBits[] = {0, 4, 8, 32};
constexpr unsigned numLevels = 4;
constexpr unsigned f32Level = 3;

struct Layer {
  SmallVector<LinearOp> ops;
  int64_t rows = 0, cols = 0;
  /// Per level: relative output error (or relative Frobenius error without
  /// calibration) and real bits of the whole matrix.
  double error[numLevels] = {}, bits[numLevels] = {};
  unsigned level = 0;
  /// Named in int8-layers (int8) or already marked (e.g. terminator-compile's
  /// head): kept at `level`, outside the budget.
  bool pinned = false;
};

struct TernarySelectPrecisionPass
    : ternary::impl::TernarySelectPrecisionPassBase<
          TernarySelectPrecisionPass> {
  using Base::Base;

  /// Columns per scale of an integer level (0: per row).
  int64_t groupOf(unsigned level) const {
    return levelIntBits[level] == 4 ? int64_t(int4Group) : 0;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (int4Group < 0) {
      module.emitError("ternary-select-precision: int4-group must be >= 0 "
                       "(0: one scale per row)");
      return signalPassFailure();
    }
    if (blockSize < 0) {
      module.emitError("ternary-select-precision: block-size must be >= 0 "
                       "(0: one scale per row)");
      return signalPassFailure();
    }
    if (!(bitsPerWeight > 0)) {
      module.emitError("ternary-select-precision: set bits-per-weight to "
                       "the budget (real bits per linear weight, e.g. 3.0)");
      return signalPassFailure();
    }
    bool offsets = method == "itf" || method == "pt2";
    if (scaleTypeName != "f32" && scaleTypeName != "f16") {
      module.emitError("ternary-select-precision: unknown scale-type '")
          << scaleTypeName << "'; expected f32 or f16";
      return signalPassFailure();
    }
    FloatType scaleType = scaleTypeName == "f16"
                              ? FloatType(Float16Type::get(ctx))
                              : FloatType(Float32Type::get(ctx));
    char err[TRT_ERROR_MESSAGE_SIZE];
    trt_archive *input = nullptr, *stats = nullptr;
    llvm::scope_exit close([&] {
      trt_archive_close(input);
      trt_archive_close(stats);
    });
    std::string inputPath;
    if (auto attr = module->getAttrOfType<StringAttr>(
            TernaryDialect::getArchiveAttrName())) {
      inputPath = attr.str();
      if (trt_archive_open(inputPath.c_str(), TRT_ARCHIVE_NO_VERIFY, &input,
                           err, sizeof(err)) != TRT_OK) {
        module.emitError("ternary-select-precision: ") << err;
        return signalPassFailure();
      }
    }
    if (failed(openStatistics(module, calibration, getArgument(), stats)))
      return signalPassFailure();

    // One entry per weight: an archive entry used by several functions
    // (specializations of one model) once; an inline weight once per op.
    llvm::MapVector<std::string, Layer, llvm::StringMap<unsigned>> layers;
    module.walk([&](LinearOp op) {
      auto w = op.getWeight().getDefiningOp<WeightOp>();
      auto param = w ? dyn_cast<ParamAttr>(w.getValue()) : nullptr;
      std::string key;
      if (param)
        key = "param:" + param.getKey().str();
      else
        llvm::raw_string_ostream(key) << "op:" << op.getOperation();
      Layer &l = layers[key];
      l.ops.push_back(op);
      if (param && llvm::is_contained(int8Layers, param.getKey().str())) {
        l.pinned = true;
        l.level = 2; // int8
      } else if (auto mark = op->getAttrOfType<StringAttr>(
                     TernaryDialect::getPrecisionAttrName())) {
        auto *it = llvm::find(levelNames, mark.getValue());
        if (it != std::end(levelNames)) {
          l.pinned = true;
          l.level = unsigned(it - std::begin(levelNames));
        }
      }
      l.rows = op.getWeight().getType().getDimSize(0);
      l.cols = op.getWeight().getType().getDimSize(1);
    });
    auto ternaryEnc =
        TernaryEncodingAttr::get(ctx, blockSize, offsets, scaleType);
    // Levels this pass may choose: ternary always, then the allowed ones.
    bool allowed[numLevels] = {true, precisions.empty(), precisions.empty(),
                               false};
    for (const std::string &name : precisions) {
      auto *it = llvm::find(levelNames, name);
      if (it == std::end(levelNames) || it == std::begin(levelNames)) {
        module.emitError("ternary-select-precision: unknown precision '")
            << name << "' in precisions; use int4, int8 and/or f32";
        return signalPassFailure();
      }
      allowed[it - std::begin(levelNames)] = true;
    }
    double total = 0, bits = 0;
    for (auto &[key, l] : layers) {
      if (l.pinned)
        continue;
      LinearOp op = l.ops.front();
      FailureOr<SmallVector<float>> w = readLinearWeight(op, input, inputPath);
      if (failed(w))
        return signalPassFailure();
      auto weight = op.getWeight().getDefiningOp<WeightOp>();
      auto param = weight ? dyn_cast<ParamAttr>(weight.getValue()) : nullptr;
      std::vector<float> hessianStorage;
      FailureOr<solvers::MatrixView> h =
          readHessian(op, stats, param ? param.getKey() : StringRef(), l.cols,
                      hessianStorage);
      if (failed(h))
        return signalPassFailure();
      solvers::MatrixView view{w->data(), l.rows, l.cols};
      double n = double(l.rows * l.cols);
      for (unsigned level = 0; level < numLevels; ++level) {
        if (!allowed[level])
          continue;
        if (level == f32Level) { // kept as it is
          l.error[level] = 0;
          l.bits[level] = 32 * n;
          continue;
        }
        // Ternary layers are scored by absmean per row, a cheap stand-in
        // for the final method; integer layers by their own rounding.
        solvers::Result<solvers::TernaryMatrix> q =
            level == 0 ? solvers::absmean(view, solvers::Granularity::Row)
                       : solvers::symmetricInt(view, levelIntBits[level],
                                               groupOf(level));
        if (!q) {
          op.emitOpError("cannot be scored: ") << q.error();
          return signalPassFailure();
        }
        double e = solvers::relativeFrobeniusError(view, *q);
        if (!h->isNull())
          if (solvers::Result<double> out =
                  solvers::relativeOutputError(view, *q, *h))
            e = *out;
        l.error[level] = e;
        WeightEncodingAttrInterface enc =
            level == 0
                ? cast<WeightEncodingAttrInterface>(ternaryEnc)
                : cast<WeightEncodingAttrInterface>(IntEncodingAttr::get(
                      ctx, levelIntBits[level], groupOf(level), scaleType));
        l.bits[level] = enc.getBitsPerWeight(l.rows, l.cols) * n;
      }
      total += n;
      bits += l.bits[0];
    }
    if (total == 0)
      return;
    if (bits > bitsPerWeight * total) {
      module.emitError("ternary-select-precision: the budget of ")
          << llvm::formatv("{0:F3}", double(bitsPerWeight)).str()
          << " bits per linear weight is below the all-ternary cost of "
          << llvm::formatv("{0:F3}", bits / total).str()
          << "; raise bits-per-weight";
      return signalPassFailure();
    }
    // Greedy upgrades: each round takes the move of one layer to a higher
    // allowed level that removes the most error per added bit and still
    // fits the budget; ties in program order. The errors are relative
    // (tr(E H Eᵀ) / tr(W H Wᵀ)): the numpy study found that absolute
    // errors pick the wrong matrices.
    SmallVector<Layer *> order;
    for (auto &entry : layers)
      if (!entry.second.pinned)
        order.push_back(&entry.second);
    while (true) {
      Layer *best = nullptr;
      unsigned bestLevel = 0;
      double bestGain = 0;
      for (Layer *l : order)
        for (unsigned level = l->level + 1; level < numLevels; ++level) {
          double added = l->bits[level] - l->bits[l->level];
          if (!allowed[level] || bits + added > bitsPerWeight * total)
            continue;
          double gain = (l->error[l->level] - l->error[level]) / added;
          if (gain > bestGain) {
            best = l;
            bestLevel = level;
            bestGain = gain;
          }
        }
      if (!best)
        break;
      bits += best->bits[bestLevel] - best->bits[best->level];
      best->level = bestLevel;
    }
    for (auto &entry : layers)
      for (LinearOp op : entry.second.ops)
        op->setAttr(TernaryDialect::getPrecisionAttrName(),
                    StringAttr::get(ctx, levelNames[entry.second.level]));
  }
};

} // namespace
