//===- SelectPrecision.cpp - ternary or int8 per layer under a budget -----===//
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

struct Layer {
  SmallVector<LinearOp> ops;
  int64_t rows = 0, cols = 0;
  double sensitivity = 0, ternaryBits = 0, int8Bits = 0;
  bool int8 = false;
};

struct TernarySelectPrecisionPass
    : ternary::impl::TernarySelectPrecisionPassBase<
          TernarySelectPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (!(bitsPerWeight > 0)) {
      module.emitError("ternary-select-precision: set bits-per-weight to "
                       "the budget (real bits per linear weight, e.g. 3.0)");
      return signalPassFailure();
    }
    bool offsets = method == "itf" || method == "pt2";
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
    if (!calibration.empty() && trt_archive_open(calibration.c_str(), 0, &stats,
                                                 err, sizeof(err)) != TRT_OK) {
      module.emitError("ternary-select-precision: calibration statistics: ")
          << err;
      return signalPassFailure();
    }

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
      l.rows = op.getWeight().getType().getDimSize(0);
      l.cols = op.getWeight().getType().getDimSize(1);
    });
    auto ternaryEnc =
        TernaryEncodingAttr::get(ctx, 0, offsets, Float32Type::get(ctx));
    auto int8Enc = IntEncodingAttr::get(ctx, 8, 0, Float32Type::get(ctx));
    double total = 0, bits = 0;
    for (auto &[key, l] : layers) {
      LinearOp op = l.ops.front();
      FailureOr<SmallVector<float>> w = readLinearWeight(op, input, inputPath);
      if (failed(w))
        return signalPassFailure();
      auto weight = op.getWeight().getDefiningOp<WeightOp>();
      auto param = weight ? dyn_cast<ParamAttr>(weight.getValue()) : nullptr;
      FailureOr<solvers::MatrixView> h =
          readHessian(op, stats, param ? param.getKey() : StringRef(), l.cols);
      if (failed(h))
        return signalPassFailure();
      solvers::MatrixView view{w->data(), l.rows, l.cols};
      solvers::Result<solvers::TernaryMatrix> q =
          solvers::absmean(view, solvers::Granularity::Row);
      if (!q) {
        op.emitOpError("cannot be scored: ") << q.error();
        return signalPassFailure();
      }
      if (!h->isNull()) {
        solvers::Result<double> e = solvers::relativeOutputError(view, *q, *h);
        l.sensitivity = e ? *e : solvers::relativeFrobeniusError(view, *q);
      } else {
        l.sensitivity = solvers::relativeFrobeniusError(view, *q);
      }
      double n = double(l.rows * l.cols);
      l.ternaryBits = ternaryEnc.getBitsPerWeight(l.rows, l.cols) * n;
      l.int8Bits = int8Enc.getBitsPerWeight(l.rows, l.cols) * n;
      total += n;
      bits += l.ternaryBits;
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
    // Most sensitive first; ties in program order.
    SmallVector<std::pair<Layer *, size_t>> order;
    for (auto &entry : layers)
      order.push_back({&entry.second, order.size()});
    llvm::sort(order, [](const auto &a, const auto &b) {
      if (a.first->sensitivity != b.first->sensitivity)
        return a.first->sensitivity > b.first->sensitivity;
      return a.second < b.second;
    });
    for (auto [l, index] : order) {
      double upgraded = bits - l->ternaryBits + l->int8Bits;
      if (upgraded <= bitsPerWeight * total) {
        l->int8 = true;
        bits = upgraded;
      }
    }
    for (auto &entry : layers)
      for (LinearOp op : entry.second.ops)
        op->setAttr(
            TernaryDialect::getPrecisionAttrName(),
            StringAttr::get(ctx, entry.second.int8 ? "int8" : "ternary"));
  }
};

} // namespace
