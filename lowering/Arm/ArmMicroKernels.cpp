//===- ArmMicroKernels.cpp - NEON dotprod dot products --------------------===//
//
// Part of TerMinator. The AArch64 half of the ternary micro-kernels: NEON
// `sdot` (s8 × s8, 16 bytes into 4 int32). The codes 0..2 are valid signed
// bytes, so the same layout serves as on x86.
//
//===----------------------------------------------------------------------===//

#include "lowering/TernaryToKernels/MicroKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;
using namespace mlir::terminator;

namespace {

struct NeonDot final : MicroKernelIsa {
  KernelIsa isa() const override { return KernelIsa::ArmNeonDot; }
  int64_t vectorBytes() const override { return 16; }
  bool unsignedCodes() const override { return false; }
  Value dot(OpBuilder &b, Location loc, Value acc, Value codes,
            Value q) const override {
    return LLVM::CallIntrinsicOp::create(
               b, loc, acc.getType(),
               b.getStringAttr("llvm.aarch64.neon.sdot.v4i32.v16i8"),
               ValueRange{acc, codes, q})
        .getResult(0);
  }
  // sdot multiplies signed bytes: int8 codes go back to Q = c xor 0x80.
  Value dot8(OpBuilder &b, Location loc, Value acc, Value codes,
             Value q) const override {
    return dot(b, loc, acc, int8CodesToSigned(b, loc, codes), q);
  }
  bool dot8SubtractsOffset() const override { return true; }
};

} // namespace

std::unique_ptr<MicroKernelIsa>
mlir::terminator::createArmNeonDotMicroKernel() {
  return std::make_unique<NeonDot>();
}
