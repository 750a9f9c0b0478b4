//===- TernaryToKernels.cpp - packed ternary layers to micro-kernels ------===//
//
// Part of TerMinator. Emits one ternary GEMV/GEMM micro-kernel per static
// shape and target ISA (the ISA's dot product comes from MicroKernel.h) and
// replaces each `ternary.packed_linear` with a call to the runtime, which
// quantizes the activations and runs the kernel over the rows in parallel.
// The layout and the arithmetic are in docs/kernels.md.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryOps.h"
#include "lowering/Passes.h"
#include "lowering/TernaryToKernels/MicroKernel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "convert-ternary-to-kernels"

namespace mlir::terminator {
#define GEN_PASS_DEF_CONVERTTERNARYTOKERNELSPASS
#include "lowering/Passes.h.inc"
} // namespace mlir::terminator

using namespace mlir;
using namespace mlir::terminator;
using ternary::PackedLinearOp;

std::unique_ptr<MicroKernelIsa>
mlir::terminator::createMicroKernel(KernelIsa isa) {
  switch (isa) {
  case KernelIsa::X86Avx2:
    return createX86Avx2MicroKernel();
  case KernelIsa::X86Avx512Vnni:
    return createX86Avx512VnniMicroKernel();
  case KernelIsa::ArmNeonDot:
    return createArmNeonDotMicroKernel();
  case KernelIsa::None:
    break;
  }
  return nullptr;
}

SmallVector<ReassociationIndices>
mlir::terminator::leadingAndLastDims(int64_t rank) {
  SmallVector<ReassociationIndices> groups(2);
  for (int64_t d = 0; d + 1 < rank; ++d)
    groups[0].push_back(d);
  groups[1].push_back(rank - 1);
  return groups;
}

Value mlir::terminator::int8CodesToSigned(OpBuilder &b, Location loc,
                                          Value codes) {
  auto signBit = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(cast<ShapedType>(codes.getType()),
                             b.getI8IntegerAttr(int8_t(-128))));
  return arith::XOrIOp::create(b, loc, codes, signBit);
}

namespace {

/// The static problem of one kernel: y[M, N] = x[M, K] · Ŵ[N, K]ᵀ with
/// (α, μ − α) per `group` columns (0: per row).
struct KernelShape {
  int64_t m, n, k, group;
  int64_t bits = 2;     ///< 2: ternary, 4: int4, 8: int8 codes
  bool f16Meta = false; ///< (α, β) stored as f16 rather than f32
};

/// Builds the body of one kernel function. Arguments: packed codes, meta,
/// quantized activations, activation meta, y (all !llvm.ptr) and the row
/// range [r0, r1) (i64).
class KernelEmitter {
public:
  KernelEmitter(OpBuilder &b, Location loc, const MicroKernelIsa &isa,
                KernelShape s, ValueRange args)
      : b(b), loc(loc), isa(isa), s(s), packed(args[0]), meta(args[1]),
        xq(args[2]), xmeta(args[3]), y(args[4]) {
    kp = PackedLinearOp::paddedCols(s.k);
    rowBytes = PackedLinearOp::packedRowBytes(s.k, s.bits);
    blocks = kp / PackedLinearOp::kBlockCols;
    groupCols = PackedLinearOp::groupCols(s.k, s.group);
    groups = PackedLinearOp::groupsPerRow(s.k, s.group);
    vbytes = isa.vectorBytes();
    lanes = vbytes / 4;
    MLIRContext *ctx = b.getContext();
    i8 = b.getI8Type();
    i64 = b.getI64Type();
    f32 = b.getF32Type();
    metaElem = s.f16Meta ? Type(b.getF16Type()) : f32;
    ptr = LLVM::LLVMPointerType::get(ctx);
    vI8 = VectorType::get({vbytes}, i8);
    vI32 = VectorType::get({lanes}, b.getI32Type());
    vF32 = VectorType::get({lanes}, f32);
  }

  /// Rows [r0, r1): full tiles of R rows, then single rows.
  void emit(Value r0, Value r1) {
    int64_t rows = kernelRowTile(isa, s.m);
    Value len = arith::SubIOp::create(b, loc, r1, r0);
    Value full = mul(arith::DivSIOp::create(b, loc, len, c(rows)), c(rows));
    Value mainEnd = add(r0, full);
    forLoop(r0, mainEnd, rows, [&](Value n) { emitRows(n, rows); });
    if (rows > 1)
      forLoop(mainEnd, r1, 1, [&](Value n) { emitRows(n, 1); });
  }

private:
  Value c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t v) { return v == 0 ? x : add(x, c(v)); }
  Value mul(Value x, int64_t v) { return v == 1 ? x : mul(x, c(v)); }
  Value gep(Value base, Type elem, Value index) {
    return LLVM::GEPOp::create(b, loc, ptr, elem, base, ValueRange{index});
  }
  Value load(Type type, Value base, Type elem, Value index) {
    return LLVM::LoadOp::create(b, loc, type, gep(base, elem, index),
                                /*alignment=*/1);
  }
  /// meta[index] (α or β) as f32, widened from f16 where it is stored so.
  Value loadMeta(Value index) {
    Value v = load(metaElem, meta, metaElem, index);
    return s.f16Meta ? Value(LLVM::FPExtOp::create(b, loc, f32, v)) : v;
  }
  Value splat(Type vectorType, Attribute value) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(cast<ShapedType>(vectorType), value));
  }

  /// for (iv = lb; iv < ub; iv += step) body(iv), with no loop-carried values.
  void forLoop(Value lb, Value ub, int64_t step,
               llvm::function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, lb, ub, c(step));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  /// Loop with carried values: `body(iv, carried)` returns the next ones.
  SmallVector<Value>
  forLoop(Value lb, Value ub, int64_t step, ValueRange init,
          llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(b, loc, lb, ub, c(step), init);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        body(loop.getInductionVar(), loop.getRegionIterArgs());
    scf::YieldOp::create(b, loc, next);
    return SmallVector<Value>(loop.getResults());
  }

  /// All tokens of rows [n, n + rows): tiles of T tokens, then the rest.
  void emitRows(Value n, int64_t rows) {
    int64_t tokens = 1;
    if (s.m > 1)
      tokens =
          std::min(s.m, groupCols < kp ? std::min<int64_t>(2, isa.gemmTokens())
                                       : isa.gemmTokens());
    int64_t full = s.m / tokens * tokens;
    if (full == tokens)
      emitTile(n, rows, c(0), tokens);
    else if (full > 0)
      forLoop(c(0), c(full), tokens,
              [&](Value m) { emitTile(n, rows, m, tokens); });
    if (full < s.m)
      emitTile(n, rows, c(full), s.m - full);
  }

  /// Int32 accumulators per (row, token) of a tile: one, or one per slab
  /// when `splitSlabs` (a GEMV: four independent dot-product chains instead
  /// of one chain four deep per block, which made the kernel latency-bound).
  int64_t accsPerOutput() const { return splitSlabs ? 4 : 1; }
  int64_t accIndex(int64_t r, int64_t t, int64_t tokens, int64_t slab) const {
    return (r * tokens + t) * accsPerOutput() + (splitSlabs ? slab : 0);
  }

  /// Whether 2-bit codes stay in place (see emitSlab).
  bool codesInPlace() const {
    return s.bits == 2 && splitSlabs && isa.unsignedCodes();
  }

  /// The 8-bit dot products of one 64-column slab `slab` (0..3) of a block
  /// for all rows and tokens of the tile; `w` holds the block's vectors.
  /// With split slabs on an ISA whose dot product takes unsigned codes, the
  /// codes stay in place, c·4^slab = w & (3 << 2·slab), and the flush shifts
  /// the slab's sum back down (exact: every term is a multiple of 4^slab).
  void emitSlab(ArrayRef<Value> w, ArrayRef<Value> xrow, Value xOff,
                int64_t slab, SmallVectorImpl<Value> &acc, int64_t rows,
                int64_t tokens) {
    int64_t perBlock = 64 / vbytes;
    bool inPlace = codesInPlace();
    Value mask =
        splat(vI8, b.getI8IntegerAttr(int8_t(inPlace ? 3 << (2 * slab) : 3)));
    Value shift = splat(vI8, b.getI8IntegerAttr(int8_t(2 * slab)));
    for (int64_t v = 0; v < perBlock; ++v) {
      SmallVector<Value> codes;
      for (int64_t r = 0; r < rows; ++r) {
        if (s.bits == 8) {
          // One byte per column: the slab is its own 64 bytes.
          codes.push_back(w[(r * 4 + slab) * perBlock + v]);
          continue;
        }
        if (s.bits == 4) {
          // Two slabs per 64 bytes: slab 2h + l is nibble l of bytes
          // 64·h .. 64·h + 63, c = Q + 8 in [1, 15].
          Value bits = w[(r * 2 + slab / 2) * perBlock + v];
          if (slab % 2)
            bits = arith::ShRUIOp::create(b, loc, bits,
                                          splat(vI8, b.getI8IntegerAttr(4)));
          codes.push_back(arith::AndIOp::create(
              b, loc, bits, splat(vI8, b.getI8IntegerAttr(15))));
          continue;
        }
        Value bits = w[r * perBlock + v];
        if (slab > 0 && !inPlace)
          bits = arith::ShRUIOp::create(b, loc, bits, shift);
        codes.push_back(arith::AndIOp::create(b, loc, bits, mask));
      }
      for (int64_t t = 0; t < tokens; ++t) {
        Value q = load(vI8, xrow[t], i8, add(xOff, slab * 64 + v * vbytes));
        for (int64_t r = 0; r < rows; ++r) {
          int64_t i = accIndex(r, t, tokens, slab);
          acc[i] = s.bits == 8 ? isa.dot8(b, loc, acc[i], codes[r], q)
                               : isa.dot(b, loc, acc[i], codes[r], q);
        }
      }
    }
  }

  /// Loads block `blk` (64 bytes of 2-bit codes, 256 of int8) of every row
  /// of the tile and prefetches the weight stream ahead, a line at a time.
  SmallVector<Value> loadBlock(ArrayRef<Value> wrow, Value blk) {
    int64_t blockBytes = PackedLinearOp::kBlockCols * s.bits / 8;
    Value off = mul(blk, blockBytes);
    SmallVector<Value> w;
    for (Value row : wrow) {
      for (int64_t v = 0; v < blockBytes / vbytes; ++v)
        w.push_back(load(vI8, row, i8, add(off, v * vbytes)));
      for (int64_t line = 0; line < blockBytes; line += 64)
        LLVM::Prefetch::create(
            b, loc, gep(row, i8, add(off, line + isa.prefetchDistance())),
            /*rw=*/0, /*hint=*/3, /*cache=*/1);
    }
    return w;
  }

  /// accf += α[n + r, g]·float(acci) for every row and token.
  SmallVector<Value> flush(Value n, ArrayRef<Value> accf, ArrayRef<Value> acci,
                           Value g, int64_t rows, int64_t tokens) {
    SmallVector<Value> out(accf);
    for (int64_t r = 0; r < rows; ++r) {
      Value alpha = loadMeta(mul(add(mul(add(n, r), groups), g), 2));
      Value alphas = vector::BroadcastOp::create(b, loc, vF32, alpha);
      for (int64_t t = 0; t < tokens; ++t) {
        Value sum = acci[accIndex(r, t, tokens, 0)];
        for (int64_t slab = 1; splitSlabs && slab < 4; ++slab) {
          Value part = acci[accIndex(r, t, tokens, slab)];
          if (codesInPlace())
            part = arith::ShRSIOp::create(
                b, loc, part, splat(vI32, b.getI32IntegerAttr(2 * slab)));
          sum = arith::AddIOp::create(b, loc, sum, part);
        }
        Value f = arith::SIToFPOp::create(b, loc, vF32, sum);
        out[r * tokens + t] =
            LLVM::FMAOp::create(b, loc, alphas, f, accf[r * tokens + t]);
      }
    }
    return out;
  }

  /// The lane sums of `vs` (vector<lanes x f32> each). A power-of-two
  /// count up to `lanes` is summed jointly: pairs of vectors are folded into
  /// one whose lane segments hold partial sums of both (a transposing
  /// butterfly), then each segment is folded within the vector; `lanes`
  /// outputs cost lanes - 1 shuffle pairs and adds instead of lanes
  /// separate reductions. Other counts use one reduction each.
  SmallVector<Value> sumLanes(ArrayRef<Value> vs) {
    int64_t count = int64_t(vs.size());
    bool joint = count > 1 && count <= lanes && llvm::isPowerOf2_64(count);
    if (!joint) {
      auto reassoc = LLVM::FastmathFlagsAttr::get(b.getContext(),
                                                  LLVM::FastmathFlags::reassoc);
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
      SmallVector<Value> out;
      for (Value v : vs)
        out.push_back(
            LLVM::vector_reduce_fadd::create(b, loc, f32, zero, v, reassoc));
      return out;
    }
    // ids[i][seg]: the output whose partial sums lie in segment seg of
    // vector i; every segment is `width` lanes wide.
    SmallVector<Value> level(vs.begin(), vs.end());
    std::vector<std::vector<int64_t>> ids;
    for (int64_t i = 0; i < count; ++i)
      ids.push_back({i});
    int64_t width = lanes;
    while (level.size() > 1) {
      SmallVector<Value> next;
      std::vector<std::vector<int64_t>> nextIds;
      for (size_t i = 0; i < level.size(); i += 2) {
        SmallVector<int64_t> lo, hi;
        std::vector<int64_t> merged;
        for (size_t seg = 0; seg < ids[i].size(); ++seg) {
          int64_t base = int64_t(seg) * width, half = width / 2;
          for (int64_t j = 0; j < half; ++j)
            lo.push_back(base + j);
          for (int64_t j = 0; j < half; ++j)
            lo.push_back(lanes + base + j);
          for (int64_t j = 0; j < half; ++j)
            hi.push_back(base + half + j);
          for (int64_t j = 0; j < half; ++j)
            hi.push_back(lanes + base + half + j);
          merged.push_back(ids[i][seg]);
          merged.push_back(ids[i + 1][seg]);
        }
        Value a = vector::ShuffleOp::create(b, loc, level[i], level[i + 1], lo);
        Value c = vector::ShuffleOp::create(b, loc, level[i], level[i + 1], hi);
        next.push_back(arith::AddFOp::create(b, loc, a, c));
        nextIds.push_back(std::move(merged));
      }
      level = std::move(next);
      ids = std::move(nextIds);
      width /= 2;
    }
    Value v = level.front();
    for (; width > 1; width /= 2) {
      // Fold the upper half of every segment onto its lower half.
      SmallVector<int64_t> perm;
      for (int64_t lane = 0; lane < lanes; ++lane)
        perm.push_back(lane % width < width / 2 ? lane + width / 2 : lane);
      Value shifted = vector::ShuffleOp::create(b, loc, v, v, perm);
      v = arith::AddFOp::create(b, loc, v, shifted);
    }
    SmallVector<Value> out(count);
    int64_t segWidth = lanes / count;
    for (int64_t seg = 0; seg < count; ++seg)
      out[ids[0][seg]] = vector::ExtractOp::create(b, loc, v, seg * segWidth);
    return out;
  }

  /// One register tile: rows [n, n + rows) × tokens [m, m + tokens).
  void emitTile(Value n, int64_t rows, Value m, int64_t tokens) {
    SmallVector<Value> wrow, xrow;
    for (int64_t r = 0; r < rows; ++r)
      wrow.push_back(gep(packed, i8, mul(add(n, r), rowBytes)));
    for (int64_t t = 0; t < tokens; ++t)
      xrow.push_back(gep(xq, i8, mul(add(m, t), kp)));
    int64_t tile = rows * tokens;
    Value zeroI = splat(vI32, b.getI32IntegerAttr(0));
    Value zeroF = splat(vF32, b.getF32FloatAttr(0.0f));
    SmallVector<Value> accf(tile, zeroF);
    splitSlabs = tokens == 1;
    SmallVector<Value> zerosI(tile * accsPerOutput(), zeroI);

    if (groupCols >= PackedLinearOp::kBlockCols) {
      // Groups of whole blocks: int32 sums over a group's blocks, then one
      // scaled float update per group.
      int64_t perGroup = groupCols / PackedLinearOp::kBlockCols;
      accf =
          forLoop(c(0), c(groups), 1, accf, [&](Value g, ValueRange carried) {
            Value begin = mul(g, perGroup);
            Value end =
                arith::MinSIOp::create(b, loc, c(blocks), add(begin, perGroup));
            SmallVector<Value> acci =
                forLoop(begin, end, 1, zerosI, [&](Value blk, ValueRange sums) {
                  SmallVector<Value> w = loadBlock(wrow, blk);
                  SmallVector<Value> acc(sums);
                  Value xOff = mul(blk, PackedLinearOp::kBlockCols);
                  for (int64_t slab = 0; slab < 4; ++slab)
                    emitSlab(w, xrow, xOff, slab, acc, rows, tokens);
                  return acc;
                });
            SmallVector<Value> prev(carried);
            return flush(n, prev, acci, g, rows, tokens);
          });
    } else {
      // Groups of 64 or 128 columns: 4 or 2 groups per block.
      int64_t slabsPerGroup = groupCols / 64;
      int64_t groupsPerBlock = 4 / slabsPerGroup;
      accf =
          forLoop(c(0), c(blocks), 1, accf, [&](Value blk, ValueRange carried) {
            SmallVector<Value> w = loadBlock(wrow, blk);
            SmallVector<Value> out(carried), acc(zerosI);
            Value xOff = mul(blk, PackedLinearOp::kBlockCols);
            for (int64_t slab = 0; slab < 4; ++slab) {
              emitSlab(w, xrow, xOff, slab, acc, rows, tokens);
              if ((slab + 1) % slabsPerGroup != 0)
                continue;
              Value g = add(mul(blk, groupsPerBlock), slab / slabsPerGroup);
              out = flush(n, out, acc, g, rows, tokens);
              acc.assign(zerosI.begin(), zerosI.end());
            }
            return out;
          });
    }

    // The offset terms Σ_g (μ − α)[n, g]·Σq[m, g], then the result.
    int64_t xStride = 1 + groups;
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    SmallVector<Value> offsets = forLoop(
        c(0), c(groups), 1, SmallVector<Value>(tile, zero),
        [&](Value g, ValueRange carried) {
          SmallVector<Value> out(carried);
          for (int64_t r = 0; r < rows; ++r) {
            Value at = mul(add(mul(add(n, r), groups), g), 2);
            Value beta = loadMeta(add(at, 1));
            if (s.bits == 8 && isa.dot8SubtractsOffset()) {
              // The dot product gave Σ (c − 128)·q: β + 128·α makes it up.
              Value alpha = loadMeta(at);
              Value k128 =
                  arith::ConstantOp::create(b, loc, b.getF32FloatAttr(128.0f));
              beta = LLVM::FMAOp::create(b, loc, k128, alpha, beta);
            }
            for (int64_t t = 0; t < tokens; ++t) {
              Value sum = load(f32, xmeta, f32,
                               add(add(mul(add(m, t), xStride), g), 1));
              out[r * tokens + t] =
                  LLVM::FMAOp::create(b, loc, beta, sum, out[r * tokens + t]);
            }
          }
          return out;
        });
    SmallVector<Value> dots = sumLanes(accf);
    for (int64_t t = 0; t < tokens; ++t) {
      Value row = add(m, t);
      Value scale = load(f32, xmeta, f32, mul(row, xStride));
      for (int64_t r = 0; r < rows; ++r) {
        Value dot = dots[r * tokens + t];
        Value sum = arith::AddFOp::create(b, loc, dot, offsets[r * tokens + t]);
        Value out = arith::MulFOp::create(b, loc, scale, sum);
        LLVM::StoreOp::create(b, loc, out,
                              gep(y, f32, add(mul(row, s.n), add(n, r))));
      }
    }
  }

  OpBuilder &b;
  Location loc;
  const MicroKernelIsa &isa;
  KernelShape s;
  bool splitSlabs = false;
  Value packed, meta, xq, xmeta, y;
  int64_t kp, rowBytes, blocks, groupCols, groups, vbytes, lanes;
  Type i8, i64, f32, metaElem, ptr;
  VectorType vI8, vI32, vF32;
};

std::string kernelName(const MicroKernelIsa &isa, KernelShape s) {
  std::string name = kernelIsaName(isa.isa()).str();
  std::replace(name.begin(), name.end(), '-', '_');
  return llvm::formatv("trt_ternary_{0}_m{1}_n{2}_k{3}_g{4}{5}{6}", name, s.m,
                       s.n, s.k, s.group,
                       s.bits == 2 ? std::string()
                                   : "_b" + std::to_string(s.bits),
                       s.f16Meta ? "_h" : "")
      .str();
}

/// The kernel for `s`, emitted into `module` on first use. It is an
/// `llvm.func` (internal linkage) so that the buffer passes, which run on
/// func.func, leave its pointer arithmetic and prefetches alone.
LLVM::LLVMFuncOp getOrEmitKernel(ModuleOp module, const MicroKernelIsa &isa,
                                 KernelShape s) {
  std::string name = kernelName(isa, s);
  if (auto f = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return f;
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  Type ptr = LLVM::LLVMPointerType::get(b.getContext());
  Type i64 = b.getI64Type();
  auto type =
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(b.getContext()),
                                  {ptr, ptr, ptr, ptr, ptr, i64, i64});
  auto func =
      LLVM::LLVMFuncOp::create(b, loc, name, type, LLVM::Linkage::Internal);
  Block *entry = func.addEntryBlock(b);
  b.setInsertionPointToStart(entry);
  KernelEmitter emitter(b, loc, isa, s, entry->getArguments());
  emitter.emit(entry->getArgument(5), entry->getArgument(6));
  LLVM::ReturnOp::create(b, loc, ValueRange{});
  return func;
}

/// `func.func private @trt_ternary_linear(...)` with its C interface: the
/// runtime entry that quantizes and runs a kernel over the rows;
/// `trt_ternary_linear_f16` takes f16 meta (the runtime only passes it on).
func::FuncOp getOrDeclareRuntime(ModuleOp module, bool f16Meta) {
  StringRef name = f16Meta ? "trt_ternary_linear_f16" : "trt_ternary_linear";
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b(module.getContext());
  b.setInsertionPointToStart(module.getBody());
  int64_t dyn = ShapedType::kDynamic;
  auto f32 = MemRefType::get({dyn, dyn}, b.getF32Type());
  auto i8 = MemRefType::get({dyn, dyn}, b.getI8Type());
  auto meta = f16Meta ? MemRefType::get({dyn, dyn}, b.getF16Type()) : f32;
  Type i64 = b.getI64Type();
  Type fn = LLVM::LLVMPointerType::get(b.getContext());
  auto func = func::FuncOp::create(
      b, module.getLoc(), name,
      b.getFunctionType({fn, f32, i8, meta, f32, i64, i64, i64, i64}, {}));
  func.setPrivate();
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return func;
}

/// `tensor` as a read-only rank-2 memref of dynamic sizes, its dimensions
/// grouped by `groups` (default: [leading dimensions, last dimension]).
Value asDynamicMatrix(OpBuilder &b, Location loc, Value tensor,
                      ArrayRef<ReassociationIndices> groups = {}) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() != 2) {
    tensor = tensor::CollapseShapeOp::create(
        b, loc, tensor,
        groups.empty() ? leadingAndLastDims(type.getRank())
                       : SmallVector<ReassociationIndices>(groups));
    type = cast<RankedTensorType>(tensor.getType());
  }
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  auto buffer =
      bufferization::ToBufferOp::create(b, loc, memrefType, tensor, true);
  int64_t dyn = ShapedType::kDynamic;
  return memref::CastOp::create(
      b, loc, MemRefType::get({dyn, dyn}, type.getElementType()), buffer);
}

LogicalResult lowerPackedLinear(PackedLinearOp op, const MicroKernelIsa &isa,
                                int64_t minRowsPerThread) {
  RankedTensorType inType = op.getInput().getType();
  RankedTensorType outType = op.getType();
  if (!inType.hasStaticShape() || !outType.hasStaticShape() ||
      !op.getPacked().getType().hasStaticShape())
    return op.emitOpError("needs static shapes for the kernel lowering, but "
                          "got ")
           << inType << " -> " << outType;
  int64_t cols = int64_t(op.getCols());
  KernelShape s{inType.getNumElements() / cols,
                op.getPacked().getType().getDimSize(0),
                cols,
                int64_t(op.getGroup()),
                int64_t(op.getBits()),
                op.getMeta().getType().getElementType().isF16()};
  auto module = op->getParentOfType<ModuleOp>();
  LLVM::LLVMFuncOp kernel = getOrEmitKernel(module, isa, s);
  func::FuncOp runtime = getOrDeclareRuntime(module, s.f16Meta);

  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = asDynamicMatrix(b, loc, op.getInput());
  Value packed = asDynamicMatrix(b, loc, op.getPacked());
  // meta [N, G, 2] -> [N, 2·G]
  Value meta = asDynamicMatrix(b, loc, op.getMeta(), {{0}, {1, 2}});
  auto yType = MemRefType::get({s.m, s.n}, b.getF32Type());
  Value yBuffer =
      memref::AllocOp::create(b, loc, yType, b.getI64IntegerAttr(64));
  int64_t dyn = ShapedType::kDynamic;
  Value yArg = memref::CastOp::create(
      b, loc, MemRefType::get({dyn, dyn}, b.getF32Type()), yBuffer);
  Value fn = LLVM::AddressOfOp::create(b, loc, kernel);
  auto c = [&](int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v))
        .getResult();
  };
  int64_t rowAlign = kernelRowTile(isa, s.m);
  func::CallOp::create(b, loc, runtime,
                       ValueRange{fn, x, packed, meta, yArg,
                                  c(PackedLinearOp::paddedCols(s.k)),
                                  c(PackedLinearOp::groupCols(s.k, s.group)),
                                  c(rowAlign), c(minRowsPerThread)});
  Value y = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get({s.m, s.n}, b.getF32Type()), yBuffer,
      /*restrict=*/true, /*writable=*/true);
  if (outType.getRank() != 2)
    y = tensor::ExpandShapeOp::create(b, loc, outType, y,
                                      leadingAndLastDims(outType.getRank()));
  if (op.getBias())
    y = buildBiasAdd(b, loc, y, op.getBias(), outType);
  op.replaceAllUsesWith(y);
  op.erase();
  return success();
}

} // namespace

LLVM::LLVMFuncOp
mlir::terminator::emitTernaryKernel(ModuleOp module, const MicroKernelIsa &isa,
                                    int64_t m, int64_t n, int64_t k,
                                    int64_t group, int64_t bits, bool f16Meta) {
  return getOrEmitKernel(module, isa,
                         KernelShape{m, n, k, group, bits, f16Meta});
}

int64_t mlir::terminator::kernelRowTile(const MicroKernelIsa &isa, int64_t m) {
  return m == 1 ? isa.gemvRows() : isa.gemmRows();
}

namespace {

struct ConvertTernaryToKernelsPass
    : mlir::terminator::impl::ConvertTernaryToKernelsPassBase<
          ConvertTernaryToKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    KernelIsa isa = KernelIsa::None;
    if (!isaName.empty()) {
      std::optional<KernelIsa> parsed = parseKernelIsa(isaName);
      if (!parsed) {
        module.emitError("convert-ternary-to-kernels: unknown isa '")
            << isaName << "'; expected avx512-vnni, avx2, neon-dotprod or none";
        return signalPassFailure();
      }
      isa = *parsed;
    } else if (std::optional<TargetDescription> target =
                   TargetDescription::fromModule(module)) {
      isa = target->kernelIsa();
    }
    std::unique_ptr<MicroKernelIsa> kernels = createMicroKernel(isa);
    if (!kernels)
      return;
    SmallVector<PackedLinearOp> ops;
    module.walk([&](PackedLinearOp op) { ops.push_back(op); });
    for (PackedLinearOp op : ops)
      if (failed(lowerPackedLinear(op, *kernels, minRowsPerThread)))
        return signalPassFailure();
  }
};

} // namespace
