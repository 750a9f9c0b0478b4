//===- Pack.cpp - the ternary-pack pass -----------------------------------===//
//
// Part of TerMinator. Rewrites ternary codes into the 2-bit layout that the
// micro-kernels read (docs/kernels.md); the layout is defined once, by
// ternary::PackedLinearOp, and this pass and the kernels both follow it.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "passes/Passes.h"
#include "passes/WeightData.h"
#include "terminator/runtime.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

#define DEBUG_TYPE "ternary-pack"

namespace mlir::ternary {
#define GEN_PASS_DEF_TERNARYPACKPASS
#include "passes/Passes.h.inc"

namespace {
struct TernaryPackPass : impl::TernaryPackPassBase<TernaryPackPass> {
  using Base::Base;
  void runOnOperation() override;

private:
  LogicalResult pack(QLinearOp op);

  /// The packed entries of an archive weight, by codes entry name.
  struct Packed {
    RankedTensorType packedType, metaType;
    std::string packedKey, metaKey;
  };
  llvm::StringMap<Packed> done;
  trt_archive *input = nullptr;
  trt_writer *writer = nullptr;
  std::string inputPath;
};
} // namespace
} // namespace mlir::ternary

using namespace mlir;
using namespace mlir::ternary;

/// Whether the kernels read scales of type `t` (meta f32 or f16).
static bool isKernelScale(FloatType t) { return t.isF32() || t.isF16(); }

/// The code width (2, 4 or 8) and group of `op`'s encoding, if the kernels
/// run it: ternary, int4 or int8 with f32 or f16 scales and a supported
/// group.
static std::optional<std::pair<int64_t, int64_t>> kernelLayout(QLinearOp op) {
  if (auto t = dyn_cast<TernaryEncodingAttr>(op.getEncoding()))
    if (isKernelScale(t.getScale()) &&
        PackedLinearOp::isSupportedGroup(t.getBlock()))
      return std::make_pair(int64_t(2), t.getBlock());
  if (auto i = dyn_cast<IntEncodingAttr>(op.getEncoding()))
    if ((i.getBits() == 8 || i.getBits() == 4) && isKernelScale(i.getScale()) &&
        PackedLinearOp::isSupportedGroup(i.getGroup()))
      return std::make_pair(int64_t(i.getBits()), i.getGroup());
  return std::nullopt;
}

/// Whether the kernels can run `op`.
static bool isPackable(QLinearOp op) {
  return kernelLayout(op) && op.getCodes().getDefiningOp<WeightOp>() &&
         (!op.getScales() || op.getScales().getDefiningOp<WeightOp>()) &&
         (!op.getOffsets() || op.getOffsets().getDefiningOp<WeightOp>());
}

LogicalResult TernaryPackPass::pack(QLinearOp op) {
  std::pair<int64_t, int64_t> layout = *kernelLayout(op);
  int64_t bits = layout.first, group = layout.second;
  auto codesOp = op.getCodes().getDefiningOp<WeightOp>();
  RankedTensorType codesType = codesOp.getType();
  int64_t n = codesType.getDimSize(0), k = codesType.getDimSize(1);
  int64_t rowBytes = PackedLinearOp::packedRowBytes(k, bits);
  int64_t groups = PackedLinearOp::groupsPerRow(k, group);
  int64_t srcGroups = op.getEncoding().getGroupsPerRow(k);
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto packedType = RankedTensorType::get({n, rowBytes}, b.getI8Type());
  // The meta keeps the encoding's scale type (f32 or f16).
  bool f16 = op.getEncoding().getScaleType().isF16();
  auto metaType = RankedTensorType::get(
      {n, groups, 2}, f16 ? Type(b.getF16Type()) : Type(b.getF32Type()));
  auto param = dyn_cast<ParamAttr>(codesOp.getValue());

  auto replace = [&](Value packed, Value meta) {
    auto packedOp = PackedLinearOp::create(
        b, loc, op.getType(), op.getInput(), packed, meta, op.getBias(),
        b.getI64IntegerAttr(k), b.getI64IntegerAttr(group),
        b.getI64IntegerAttr(bits));
    op.replaceAllUsesWith(packedOp.getResult());
    SmallVector<Value> weights = {op.getCodes(), op.getScales(),
                                  op.getOffsets()};
    op.erase();
    for (Value w : weights)
      if (w && w.use_empty())
        w.getDefiningOp()->erase();
  };
  auto paramWeight = [&](StringRef key, RankedTensorType type) -> Value {
    return WeightOp::create(
        b, loc, cast<TypedAttr>(ParamAttr::get(b.getContext(), key, type)));
  };
  if (param) {
    auto it = done.find(param.getKey());
    if (it != done.end()) {
      replace(paramWeight(it->second.packedKey, it->second.packedType),
              paramWeight(it->second.metaKey, it->second.metaType));
      return success();
    }
  }

  SmallVector<char> codesStore, scalesStore, offsetsStore;
  FailureOr<ArrayRef<char>> codes =
      readWeightBytes(op, codesOp, input, inputPath, TRT_DTYPE_I8, codesStore);
  if (failed(codes))
    return failure();
  std::vector<float> scalesWide, offsetsWide;
  auto readMeta = [&](Value v, SmallVectorImpl<char> &store,
                      std::vector<float> &wide) -> FailureOr<ArrayRef<float>> {
    if (!v)
      return ArrayRef<float>();
    FailureOr<ArrayRef<char>> bytes =
        readWeightBytes(op, v.getDefiningOp<WeightOp>(), input, inputPath,
                        f16 ? TRT_DTYPE_F16 : TRT_DTYPE_F32, store);
    if (failed(bytes))
      return failure();
    if (!f16)
      return ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                             bytes->size() / sizeof(float));
    wide = widenF16(
        ArrayRef<uint16_t>(reinterpret_cast<const uint16_t *>(bytes->data()),
                           bytes->size() / sizeof(uint16_t)));
    return ArrayRef<float>(wide);
  };
  FailureOr<ArrayRef<float>> scales =
      readMeta(op.getScales(), scalesStore, scalesWide);
  FailureOr<ArrayRef<float>> offsets =
      readMeta(op.getOffsets(), offsetsStore, offsetsWide);
  if (failed(scales) || failed(offsets))
    return failure();

  // docs/kernels.md. Ternary: c = T + 1 in 2 bits, Ŵ = α·c + (μ − α).
  // Int4: c = Q + 8 in a nibble, Ŵ = α·c − 8·α. Int8: c = Q + 128 in a
  // byte, Ŵ = α·c − 128·α. Padding columns hold the code of Q = 0.
  uint8_t fill = bits == 8 ? 128 : bits == 4 ? 0x88 : 0;
  std::vector<uint8_t> packed(size_t(n * rowBytes), fill);
  std::vector<float> meta(size_t(n * groups * 2), 0.0f);
  const int8_t *t = reinterpret_cast<const int8_t *>(codes->data());
  for (int64_t row = 0; row < n; ++row) {
    uint8_t *dst = packed.data() + row * rowBytes;
    for (int64_t col = 0; col < k; ++col) {
      int8_t v = t[row * k + col];
      if (bits == 8) {
        if (v == -128)
          return op.emitOpError("cannot be packed: int8 code -128 at [")
                 << row << ", " << col << "] is outside [-127, 127]";
        dst[col] = uint8_t(int(v) + 128);
        continue;
      }
      if (bits == 4) {
        if (v < -7 || v > 7)
          return op.emitOpError("cannot be packed: int4 code ")
                 << int(v) << " at [" << row << ", " << col
                 << "] is outside [-7, 7]";
        int64_t block = col / 256, slab = (col % 256) / 64, j = col % 64;
        uint8_t &byte = dst[block * 128 + (slab / 2) * 64 + j];
        int shift = 4 * int(slab % 2);
        byte = uint8_t((byte & ~(0xF << shift)) | ((v + 8) << shift));
        continue;
      }
      if (v < -1 || v > 1)
        return op.emitOpError("cannot be packed: code ")
               << int(v) << " at [" << row << ", " << col
               << "] is not in {-1, 0, 1}";
      int64_t block = col / 256, slab = (col % 256) / 64, j = col % 64;
      dst[block * 64 + j] |= uint8_t((v + 1) << (2 * slab));
    }
    for (int64_t g = 0; g < srcGroups; ++g) {
      float alpha = scales->empty() ? 1.0f : (*scales)[row * srcGroups + g];
      float mu = offsets->empty() ? 0.0f : (*offsets)[row * srcGroups + g];
      meta[(row * groups + g) * 2] = alpha;
      meta[(row * groups + g) * 2 + 1] = bits == 8   ? -128.0f * alpha
                                         : bits == 4 ? -8.0f * alpha
                                                     : mu - alpha;
    }
  }

  std::string base = param ? param.getKey().str() : std::string("packed");
  if (StringRef(base).ends_with(".codes"))
    base.resize(base.size() - 6);
  ArrayRef<char> packedBytes(reinterpret_cast<const char *>(packed.data()),
                             packed.size());
  ArrayRef<char> metaBytes(reinterpret_cast<const char *>(meta.data()),
                           meta.size() * sizeof(float));
  std::vector<uint16_t> metaF16;
  if (f16) {
    // β = μ − α (or −128·α) rounded once more, to the stored f16.
    metaF16 = roundToF16(meta);
    if (llvm::any_of(meta, [](float v) { return !std::isfinite(v); }))
      return op.emitOpError("cannot be packed with f16 meta: β = μ − α (or "
                            "−128·α) exceeds the f16 range; ternarize with "
                            "scale-type=f32");
    metaBytes = ArrayRef<char>(reinterpret_cast<const char *>(metaF16.data()),
                               metaF16.size() * sizeof(uint16_t));
  }
  trt_writer *to = param ? writer : nullptr;
  Value packedValue =
      makeWeightValue(b, loc, packedType, base + ".packed", packedBytes,
                      TRT_DTYPE_I8, to, outputArchive, "ternary-pack");
  Value metaValue = makeWeightValue(b, loc, metaType, base + ".meta", metaBytes,
                                    f16 ? TRT_DTYPE_F16 : TRT_DTYPE_F32, to,
                                    outputArchive, "ternary-pack");
  if (!packedValue || !metaValue)
    return failure();
  if (param)
    done[param.getKey()] =
        Packed{packedType, metaType, base + ".packed", base + ".meta"};
  replace(packedValue, metaValue);
  return success();
}

void TernaryPackPass::runOnOperation() {
  ModuleOp module = getOperation();
  SmallVector<QLinearOp> ops;
  bool usesArchive = false;
  module.walk([&](QLinearOp op) {
    if (!isPackable(op))
      return;
    ops.push_back(op);
    auto codes = op.getCodes().getDefiningOp<WeightOp>();
    usesArchive |= isa<ParamAttr>(codes.getValue());
  });
  if (ops.empty())
    return;
  llvm::scope_exit cleanup([&] {
    trt_writer_destroy(writer);
    trt_archive_close(input);
  });
  if (usesArchive &&
      failed(openArchives(module, outputArchive, "ternary-pack",
                          "packed weights", input, writer, inputPath)))
    return signalPassFailure();
  for (QLinearOp op : ops)
    if (failed(pack(op)))
      return signalPassFailure();
  if (usesArchive && failed(finishArchive(module, input, writer, outputArchive,
                                          "ternary-pack")))
    return signalPassFailure();
}
