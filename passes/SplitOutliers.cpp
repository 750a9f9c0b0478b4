//===- SplitOutliers.cpp - the ternary-split-outliers pass ----------------===//
//
// Part of TerMinator. W = W' + S: the most salient weights of each linear
// layer move into a sparse residual S kept in f16 (`ternary.sparse_residual`,
// CSR), and the rest W' (those entries zero) is left to ternary-ternarize.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/WeightData.h"
#include "terminator/runtime.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#define DEBUG_TYPE "ternary-split-outliers"

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYSPLITOUTLIERSPASS
#include "passes/Passes.h.inc"

namespace {
struct TernarySplitOutliersPass
    : impl::TernarySplitOutliersPassBase<TernarySplitOutliersPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult split(LinearOp linear);

  /// The entries written for an archive weight, so that a weight shared by
  /// several functions (specializations of one model) is split once.
  struct Done {
    RankedTensorType weight, rows, cols, values;
  };
  llvm::StringMap<Done> done;
  llvm::StringSet<> rewritten; ///< archive weights written anew as W'
  trt_archive *input = nullptr, *stats = nullptr;
  trt_writer *writer = nullptr;
  std::string inputPath;
};
} // namespace
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;

LogicalResult TernarySplitOutliersPass::split(LinearOp linear) {
  auto weightOp = linear.getWeight().getDefiningOp<WeightOp>();
  auto param = weightOp ? dyn_cast<ParamAttr>(weightOp.getValue()) : nullptr;
  RankedTensorType weightType = linear.getWeight().getType();
  int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
  OpBuilder b(linear);
  Location loc = linear.getLoc();
  std::string base = param ? param.getKey().str() : std::string("outliers");
  auto replace = [&](Value weight, Value rows, Value cols, Value values) {
    auto dense = LinearOp::create(b, loc, linear.getType(), linear.getInput(),
                                  weight, linear.getBias());
    dense->setDiscardableAttrs(linear->getDiscardableAttrDictionary());
    auto residual = SparseResidualOp::create(
        b, loc, linear.getType(), dense, linear.getInput(), rows, cols, values);
    linear.replaceAllUsesWith(residual.getResult());
    linear.erase();
    if (weightOp && weightOp->use_empty())
      weightOp.erase();
  };
  auto paramWeight = [&](StringRef key, RankedTensorType type) -> Value {
    return WeightOp::create(
        b, loc, cast<TypedAttr>(ParamAttr::get(b.getContext(), key, type)));
  };
  if (param) {
    auto it = done.find(param.getKey());
    if (it != done.end()) {
      replace(paramWeight(base, it->second.weight),
              paramWeight(base + ".outlier_rows", it->second.rows),
              paramWeight(base + ".outlier_cols", it->second.cols),
              paramWeight(base + ".outlier_values", it->second.values));
      return success();
    }
  }

  FailureOr<SmallVector<float>> w = readLinearWeight(linear, input, inputPath);
  if (failed(w))
    return failure();
  std::vector<float> hessianStorage;
  FailureOr<::terminator::solvers::MatrixView> h = readHessian(
      linear, stats, param ? param.getKey() : StringRef(), k, hessianStorage);
  if (failed(h))
    return failure();

  // Salience |W[r, c]|·sqrt(H[c, c]): the weight's share of the output
  // (|W| alone without calibration). The `count` largest move to S.
  int64_t total = n * k;
  int64_t count =
      std::min<int64_t>(total, int64_t(std::llround(fraction * double(total))));
  std::vector<float> scale(size_t(k), 1.0f);
  if (!h->isNull())
    for (int64_t c = 0; c < k; ++c)
      scale[size_t(c)] = std::sqrt(std::max(0.0f, h->at(c, c)));
  std::vector<int64_t> order(static_cast<size_t>(total));
  std::iota(order.begin(), order.end(), 0);
  auto salience = [&](int64_t i) {
    return std::fabs((*w)[size_t(i)]) * scale[size_t(i % k)];
  };
  std::nth_element(order.begin(), order.begin() + count, order.end(),
                   [&](int64_t a, int64_t c) {
                     float sa = salience(a), sc = salience(c);
                     return sa != sc ? sa > sc : a < c;
                   });
  order.resize(size_t(count));
  std::sort(order.begin(), order.end()); // row-major: CSR order

  std::vector<int32_t> rows(size_t(n + 1), 0), cols;
  std::vector<float> values;
  cols.reserve(size_t(count));
  values.reserve(size_t(count));
  for (int64_t i : order) {
    rows[size_t(i / k + 1)]++;
    cols.push_back(int32_t(i % k));
    values.push_back((*w)[size_t(i)]);
    (*w)[size_t(i)] = 0.0f;
  }
  for (int64_t r = 0; r < n; ++r)
    rows[size_t(r + 1)] += rows[size_t(r)];
  std::vector<uint16_t> halves = roundToF16(values);
  if (llvm::any_of(values, [](float v) { return !std::isfinite(v); }))
    return linear.emitOpError("cannot keep its outliers in f16: a weight "
                              "exceeds the f16 range (65504)");

  auto bytesOf = [](const auto &v) {
    return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                          v.size() * sizeof(v[0]));
  };
  auto rowsType = RankedTensorType::get({n + 1}, b.getI32Type());
  auto colsType = RankedTensorType::get({count}, b.getI32Type());
  auto valuesType = RankedTensorType::get({count}, b.getF16Type());
  trt_writer *to = param ? writer : nullptr;
  Value weight =
      makeWeightValue(b, loc, weightType, base, bytesOf(*w), TRT_DTYPE_F32, to,
                      outputArchive, getArgument());
  Value rowsValue =
      makeWeightValue(b, loc, rowsType, base + ".outlier_rows", bytesOf(rows),
                      TRT_DTYPE_I32, to, outputArchive, getArgument());
  Value colsValue =
      makeWeightValue(b, loc, colsType, base + ".outlier_cols", bytesOf(cols),
                      TRT_DTYPE_I32, to, outputArchive, getArgument());
  Value valuesValue = makeWeightValue(
      b, loc, valuesType, base + ".outlier_values", bytesOf(halves),
      TRT_DTYPE_F16, to, outputArchive, getArgument());
  if (!weight || !rowsValue || !colsValue || !valuesValue)
    return failure();
  if (param) {
    done[param.getKey()] = Done{weightType, rowsType, colsType, valuesType};
    rewritten.insert(param.getKey());
  }
  replace(weight, rowsValue, colsValue, valuesValue);
  return success();
}

void TernarySplitOutliersPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (!(fraction > 0.0 && fraction < 1.0)) {
    module.emitError("ternary-split-outliers: fraction must be in (0, 1), "
                     "e.g. 0.005 for half a percent of each matrix, but got ")
        << double(fraction);
    return signalPassFailure();
  }
  // Outliers are for ternary layers: those that mixed precision (or the
  // head's precision) keeps at int4, int8 or f32 are left alone.
  SmallVector<LinearOp> linears =
      selectTernaryLinears(module, onlyLayers, excludeLayers);
  bool usesArchive = llvm::any_of(
      linears, [](LinearOp op) { return !weightKey(op.getWeight()).empty(); });

  llvm::scope_exit cleanup([&] {
    trt_writer_destroy(writer);
    trt_archive_close(input);
    trt_archive_close(stats);
  });
  if (failed(openStatistics(module, calibration, getArgument(), stats)))
    return signalPassFailure();
  if (usesArchive &&
      failed(openArchives(module, outputArchive, getArgument(), "split weights",
                          input, writer, inputPath)))
    return signalPassFailure();
  bool failedAny = false;
  for (LinearOp linear : linears)
    failedAny |= failed(split(linear));
  if (failedAny)
    return signalPassFailure();
  if (usesArchive && failed(finishArchive(module, input, writer, outputArchive,
                                          getArgument(), &rewritten)))
    return signalPassFailure();
}
