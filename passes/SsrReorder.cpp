//===- SsrReorder.cpp - the ternary-ssr-reorder pass ----------------------===//
//
// Part of TerMinator. SSR: each layer's input columns are reordered so that
// similar columns share a quantization block; the layer then reads a
// permutation of its input, folded into the producers where that is exact.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/WeightData.h"
#include "passes/solvers/Reorder.h"
#include "terminator/runtime.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>
#include <optional>

#define DEBUG_TYPE "ternary-ssr-reorder"

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYSSRREORDERPASS
#include "passes/Passes.h.inc"
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;
namespace solvers = ::terminator::solvers;

namespace {
using Perm = std::vector<int64_t>;

/// A permutation of an activation folded into the ops producing it: the
/// `ternary.permute`s of it (`sinks`) go away and the weight rows of the
/// `producers` are permuted instead.
struct Fold {
  Perm perm;
  SmallVector<PermuteOp> sinks;
  SmallVector<LinearOp> producers;
  bool valid = true;
};

/// Whether `g` maps each point to one output element, independently along
/// the last dimension: all loops parallel, one identity-indexed output that
/// is only written, no `linalg.index`.
bool isElementwise(linalg::GenericOp g) {
  if (g.getNumDpsInits() != 1 || g.hasIndexSemantics() ||
      llvm::any_of(g.getIteratorTypesArray(), [](utils::IteratorType t) {
        return t != utils::IteratorType::parallel;
      }))
    return false;
  OpOperand *init = g.getDpsInitOperand(0);
  return g.getMatchingIndexingMap(init).isIdentity() &&
         !g.payloadUsesValueFromOperand(init);
}

/// The fold of `perm` applied to `value`, when one is exact: `value` comes,
/// through elementwise generics, from bias-free archive linears, and every
/// use of every value on the way is such a generic or a permute by `perm`.
std::optional<Fold> planFold(Value value, ArrayRef<int64_t> perm) {
  Fold fold;
  fold.perm.assign(perm.begin(), perm.end());
  SmallVector<Value> work{value};
  llvm::SetVector<Value> values;
  llvm::SmallPtrSet<Operation *, 8> converted;
  while (!work.empty()) {
    Value v = work.pop_back_val();
    if (!values.insert(v))
      continue;
    Operation *def = v.getDefiningOp();
    if (!def)
      return std::nullopt;
    if (auto linear = dyn_cast<LinearOp>(def)) {
      if (linear.getBias() || weightKey(linear.getWeight()).empty())
        return std::nullopt;
      if (converted.insert(def).second)
        fold.producers.push_back(linear);
      continue;
    }
    auto g = dyn_cast<linalg::GenericOp>(def);
    if (!g || !isElementwise(g))
      return std::nullopt;
    converted.insert(def);
    unsigned last = g.getNumLoops() - 1;
    for (OpOperand *in : g.getDpsInputOperands()) {
      AffineMap map = g.getMatchingIndexingMap(in);
      if (map.isIdentity())
        work.push_back(in->get());
      else if (map.isFunctionOfDim(last))
        return std::nullopt; // e.g. a per-feature constant
    }
  }
  for (Value v : values)
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (auto p = dyn_cast<PermuteOp>(user)) {
        if (p.getPermutation() != perm)
          return std::nullopt;
        if (!llvm::is_contained(fold.sinks, p))
          fold.sinks.push_back(p);
        continue;
      }
      auto g = dyn_cast<linalg::GenericOp>(user);
      if (!g || !converted.contains(user) || g.isDpsInit(&use) ||
          !g.getMatchingIndexingMap(&use).isIdentity())
        return std::nullopt;
    }
  return fold;
}

struct TernarySsrReorderPass
    : ternary::impl::TernarySsrReorderPassBase<TernarySsrReorderPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  /// Folds that keep every archive weight and every reordered layer
  /// consistent across the module: a weight's rows are permuted for all of
  /// its uses or for none, and a reordered weight's permutation is folded
  /// in every function or in none. Invalidates the others.
  void keepConsistentFolds(ModuleOp module, MutableArrayRef<Fold> folds);
};
} // namespace

void TernarySsrReorderPass::keepConsistentFolds(ModuleOp module,
                                                MutableArrayRef<Fold> folds) {
  for (bool changed = true; changed;) {
    changed = false;
    llvm::StringMap<const Perm *> rows;
    llvm::StringSet<> bad;
    llvm::SmallPtrSet<Operation *, 16> producers, sinks;
    for (Fold &f : folds) {
      if (!f.valid)
        continue;
      for (LinearOp l : f.producers) {
        StringRef key = weightKey(l.getWeight());
        auto [it, inserted] = rows.try_emplace(key, &f.perm);
        if (!inserted && *it->second != f.perm)
          bad.insert(key);
        producers.insert(l);
      }
      for (PermuteOp p : f.sinks)
        sinks.insert(p);
    }
    // Every use of a row-permuted weight is a producer of a kept fold.
    module.walk([&](WeightOp w) {
      StringRef key = weightKey(w.getResult());
      if (!rows.count(key))
        return;
      for (Operation *user : w->getUsers())
        if (!producers.contains(user))
          bad.insert(key);
    });
    // A reordered weight: its permutes all folded, or none.
    llvm::StringMap<std::pair<bool, bool>> foldedOrNot;
    module.walk([&](LinearOp l) {
      auto p = l.getInput().getDefiningOp<PermuteOp>();
      StringRef key = weightKey(l.getWeight());
      if (!p || key.empty() ||
          !l->hasAttr(TernaryDialect::getInputPermutationAttrName()))
        return;
      auto &[folded, kept] = foldedOrNot[key];
      (sinks.contains(p) ? folded : kept) = true;
    });
    for (Fold &f : folds) {
      if (!f.valid)
        continue;
      bool ok = llvm::none_of(f.producers, [&](LinearOp l) {
        return bad.contains(weightKey(l.getWeight()));
      });
      for (PermuteOp p : f.sinks)
        for (Operation *user : p->getUsers())
          if (auto l = dyn_cast<LinearOp>(user)) {
            auto it = foldedOrNot.find(weightKey(l.getWeight()));
            ok &= it == foldedOrNot.end() || !it->second.second;
          }
      if (!ok) {
        f.valid = false;
        changed = true;
      }
    }
  }
}

void TernarySsrReorderPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (blockSize < 1) {
    module.emitError("ternary-ssr-reorder: block-size must be >= 1 (the "
                     "columns per scale group of ternary-ternarize), but got ")
        << int64_t(blockSize);
    return signalPassFailure();
  }
  SmallVector<LinearOp> linears;
  for (LinearOp op : selectTernaryLinears(module, onlyLayers, excludeLayers))
    if (op.getWeight().getDefiningOp<WeightOp>() &&
        !op->hasAttr(TernaryDialect::getInputPermutationAttrName()) &&
        op.getWeight().getType().getDimSize(1) > blockSize)
      linears.push_back(op);
  bool usesArchive = llvm::any_of(
      linears, [](LinearOp op) { return !weightKey(op.getWeight()).empty(); });
  if (linears.empty())
    return;

  trt_archive *input = nullptr;
  trt_writer *writer = nullptr;
  std::string inputPath;
  llvm::scope_exit cleanup([&] {
    trt_writer_destroy(writer);
    trt_archive_close(input);
  });
  if (usesArchive &&
      failed(openArchives(module, outputArchive, getArgument(),
                          "reordered weights", input, writer, inputPath)))
    return signalPassFailure();

  // 1. Reorder: a permutation per weight, the permute before each layer.
  llvm::StringMap<Perm> columns;    // archive weights reordered
  llvm::StringMap<WeightOp> source; // one ternary.weight of each entry
  for (LinearOp linear : linears) {
    StringRef key = weightKey(linear.getWeight());
    RankedTensorType type = linear.getWeight().getType();
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    Perm perm;
    if (auto it = columns.find(key); !key.empty() && it != columns.end()) {
      perm = it->second;
    } else {
      FailureOr<SmallVector<float>> w =
          readLinearWeight(linear, input, inputPath);
      if (failed(w))
        return signalPassFailure();
      solvers::SsrOptions options;
      options.blockSize = blockSize;
      auto order = solvers::ssrOrder({w->data(), n, k}, options);
      if (!order) {
        linear.emitOpError("cannot be reordered: ") << order.error();
        return signalPassFailure();
      }
      perm = std::move(*order);
      if (!key.empty()) {
        columns[key] = perm;
        source[key] = linear.getWeight().getDefiningOp<WeightOp>();
      } else {
        // An inline weight: a new inline value with the columns permuted.
        std::vector<float> permuted =
            solvers::permuteColumns({w->data(), n, k}, perm);
        OpBuilder b(linear);
        auto old = linear.getWeight().getDefiningOp<WeightOp>();
        Value weight = makeWeightValue(
            b, linear.getLoc(), type, "ssr_weight",
            ArrayRef<char>(reinterpret_cast<const char *>(permuted.data()),
                           permuted.size() * sizeof(float)),
            TRT_DTYPE_F32, nullptr, outputArchive, getArgument());
        linear.getWeightMutable().assign(weight);
        if (old->use_empty())
          old.erase();
      }
    }
    OpBuilder b(linear);
    auto permute =
        PermuteOp::create(b, linear.getLoc(), linear.getInput().getType(),
                          linear.getInput(), b.getDenseI64ArrayAttr(perm));
    linear.getInputMutable().assign(permute.getResult());
    linear->setAttr(TernaryDialect::getInputPermutationAttrName(),
                    b.getDenseI64ArrayAttr(perm));
  }

  // 2. Fold the permutations into their producers where exact.
  llvm::StringMap<Perm> rows;
  if (fold) {
    SmallVector<Fold> folds;
    llvm::SmallPtrSet<Operation *, 16> claimed;
    module.walk([&](PermuteOp p) {
      if (claimed.contains(p))
        return;
      std::optional<Fold> f = planFold(p.getInput(), p.getPermutation());
      if (!f)
        return;
      for (PermuteOp sink : f->sinks)
        claimed.insert(sink);
      folds.push_back(std::move(*f));
    });
    keepConsistentFolds(module, folds);
    for (Fold &f : folds) {
      if (!f.valid)
        continue;
      for (LinearOp l : f.producers) {
        StringRef key = weightKey(l.getWeight());
        rows[key] = f.perm;
        source.try_emplace(key, l.getWeight().getDefiningOp<WeightOp>());
      }
      for (PermuteOp p : f.sinks) {
        p.getResult().replaceAllUsesWith(p.getInput());
        p.erase();
      }
    }
  }
  if (!usesArchive)
    return;

  // 3. The archive: permuted weights under their own names, and a record
  // of each permutation left in the IR.
  llvm::StringSet<> rewritten, recorded;
  SmallVector<Attribute> records;
  if (auto old = module->getAttrOfType<ArrayAttr>(
          TernaryDialect::getRecordsAttrName()))
    records.assign(old.begin(), old.end());
  OpBuilder b(module.getContext());
  auto bytesOf = [](const auto &v) {
    return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                          v.size() * sizeof(v[0]));
  };
  for (const auto &entry : source) {
    StringRef key = entry.getKey();
    WeightOp op = entry.getValue();
    RankedTensorType type = op.getType();
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    SmallVector<char> storage;
    FailureOr<ArrayRef<char>> bytes =
        readWeightBytes(op, op, input, inputPath, TRT_DTYPE_F32, storage);
    if (failed(bytes))
      return signalPassFailure();
    std::vector<float> w(size_t(n * k));
    std::memcpy(w.data(), bytes->data(), w.size() * sizeof(float));
    if (auto it = rows.find(key); it != rows.end())
      w = solvers::permuteRows({w.data(), n, k}, it->second);
    if (auto it = columns.find(key); it != columns.end())
      w = solvers::permuteColumns({w.data(), n, k}, it->second);
    b.setInsertionPoint(op);
    Value value =
        makeWeightValue(b, op.getLoc(), type, key, bytesOf(w), TRT_DTYPE_F32,
                        writer, outputArchive, getArgument());
    if (!value)
      return signalPassFailure();
    value.getDefiningOp()->erase(); // same entry name: the ops stay
    rewritten.insert(key);
  }
  WalkResult recordedAll = module.walk([&](LinearOp l) {
    StringRef key = weightKey(l.getWeight());
    if (key.empty() || !l.getInput().getDefiningOp<PermuteOp>() ||
        !columns.count(key))
      return WalkResult::advance();
    std::string name = (key + ".input_permutation").str();
    if (!recorded.insert(name).second)
      return WalkResult::advance();
    const Perm &perm = columns[key];
    auto type = RankedTensorType::get({int64_t(perm.size())}, b.getI64Type());
    b.setInsertionPoint(l);
    Value value =
        makeWeightValue(b, l.getLoc(), type, name, bytesOf(perm), TRT_DTYPE_I64,
                        writer, outputArchive, getArgument());
    if (!value)
      return WalkResult::interrupt();
    value.getDefiningOp()->erase(); // a record, not an operand
    rewritten.insert(name);
    records.push_back(b.getStringAttr(name));
    return WalkResult::advance();
  });
  if (recordedAll.wasInterrupted())
    return signalPassFailure();
  if (!records.empty())
    module->setAttr(TernaryDialect::getRecordsAttrName(),
                    b.getArrayAttr(records));
  if (failed(finishArchive(module, input, writer, outputArchive, getArgument(),
                           &rewritten)))
    return signalPassFailure();
}
