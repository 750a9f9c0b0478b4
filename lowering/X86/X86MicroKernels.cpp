//===- X86MicroKernels.cpp - AVX2 and AVX-512 VNNI dot products -----------===//
//
// Part of TerMinator. The x86 halves of the ternary micro-kernels:
// AVX-512 VNNI `vpdpbusd` (u8 × s8, 64 bytes, accumulating into 16 int32)
// and AVX2 `vpmaddubsw` + `vpmaddwd` (32 bytes into 8 int32).
//
//===----------------------------------------------------------------------===//

#include "lowering/TernaryToKernels/MicroKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::terminator;

namespace {

struct Avx512Vnni final : MicroKernelIsa {
  KernelIsa isa() const override { return KernelIsa::X86Avx512Vnni; }
  int64_t vectorBytes() const override { return 64; }
  Value dot(OpBuilder &b, Location loc, Value acc, Value codes,
            Value q) const override {
    // vpdpbusd: acc[i] += Σ_j codes[4i+j] (unsigned) · q[4i+j] (signed).
    return LLVM::CallIntrinsicOp::create(
               b, loc, acc.getType(),
               b.getStringAttr("llvm.x86.avx512.vpdpbusd.512"),
               ValueRange{acc, codes, q})
        .getResult(0);
  }
};

struct Avx2 final : MicroKernelIsa {
  KernelIsa isa() const override { return KernelIsa::X86Avx2; }
  int64_t vectorBytes() const override { return 32; }
  int64_t gemmRows() const override { return 2; }
  Value dot(OpBuilder &b, Location loc, Value acc, Value codes,
            Value q) const override {
    // vpmaddubsw: 16 × i16 of pairs (|pair| <= 2·2·127, no saturation),
    // then vpmaddwd with ones: 8 × i32 of quadruples.
    auto i16x16 = VectorType::get({16}, b.getI16Type());
    Value pairs =
        LLVM::CallIntrinsicOp::create(
            b, loc, i16x16, b.getStringAttr("llvm.x86.avx2.pmadd.ub.sw"),
            ValueRange{codes, q})
            .getResult(0);
    Value ones = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(i16x16, b.getI16IntegerAttr(1)));
    Value quads =
        LLVM::CallIntrinsicOp::create(b, loc, acc.getType(),
                                      b.getStringAttr("llvm.x86.avx2.pmadd.wd"),
                                      ValueRange{pairs, ones})
            .getResult(0);
    return arith::AddIOp::create(b, loc, acc, quads);
  }
  // vpmaddubsw would saturate on c·q up to 255·127, so int8 layers use the
  // sign trick: |Q| (unsigned) times q with Q's sign, Q = c xor 0x80.
  Value dot8(OpBuilder &b, Location loc, Value acc, Value codes,
             Value q) const override {
    Value w = int8CodesToSigned(b, loc, codes);
    StringAttr sign = b.getStringAttr("llvm.x86.avx2.psign.b");
    Value absW = LLVM::CallIntrinsicOp::create(b, loc, codes.getType(), sign,
                                               ValueRange{w, w})
                     .getResult(0);
    Value signedQ = LLVM::CallIntrinsicOp::create(b, loc, q.getType(), sign,
                                                  ValueRange{q, w})
                        .getResult(0);
    return dot(b, loc, acc, absW, signedQ);
  }
  bool dot8SubtractsOffset() const override { return true; }
};

} // namespace

std::unique_ptr<MicroKernelIsa> mlir::terminator::createX86Avx2MicroKernel() {
  return std::make_unique<Avx2>();
}

std::unique_ptr<MicroKernelIsa>
mlir::terminator::createX86Avx512VnniMicroKernel() {
  return std::make_unique<Avx512Vnni>();
}
