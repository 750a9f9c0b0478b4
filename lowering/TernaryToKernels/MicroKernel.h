//===- MicroKernel.h - per-ISA pieces of the ternary kernels ----*- C++ -*-===//
//
// Part of TerMinator. The ternary GEMV/GEMM emitter (TernaryToKernels.cpp)
// is written once; what differs per instruction set is the vector width,
// the register tiling and the 8-bit dot product, which each ISA (X86/,
// Arm/) provides through this interface with its intrinsics named
// explicitly (llvm.call_intrinsic), because generic vector code does not
// become vpdpbusd or sdot (docs/kernels.md).
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_LOWERING_TERNARYTOKERNELS_MICROKERNEL_H
#define TERMINATOR_LOWERING_TERNARYTOKERNELS_MICROKERNEL_H

#include "lowering/Target.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace mlir::terminator {

/// The ISA-specific part of a ternary micro-kernel.
class MicroKernelIsa {
public:
  virtual ~MicroKernelIsa() = default;
  virtual KernelIsa isa() const = 0;
  /// Bytes of one vector register (64, 32, 16); it divides 64.
  virtual int64_t vectorBytes() const = 0;
  /// `acc` (vector<vectorBytes/4 x i32>) plus the dot products of each 4
  /// consecutive bytes of `codes` (unsigned, 0..2) and `q` (signed int8),
  /// both vector<vectorBytes x i8>.
  virtual Value dot(OpBuilder &b, Location loc, Value acc, Value codes,
                    Value q) const = 0;
  /// The dot product of int8 layers: `codes` are bytes c = Q + 128 in
  /// [1, 255]. Adds Σ c·q, or Σ (c − 128)·q = Σ Q·q when
  /// `dot8SubtractsOffset()` (the kernel then corrects the offset term).
  virtual Value dot8(OpBuilder &b, Location loc, Value acc, Value codes,
                     Value q) const {
    return dot(b, loc, acc, codes, q);
  }
  virtual bool dot8SubtractsOffset() const { return false; }
  /// Whether `dot` takes the codes as unsigned bytes (so 2·64 = 128 is a
  /// valid code byte), as vpdpbusd and vpmaddubsw do; sdot's are signed.
  virtual bool unsignedCodes() const { return true; }
  /// Rows and tokens per register tile of a GEMV (one token) and a GEMM.
  virtual int64_t gemvRows() const { return 4; }
  virtual int64_t gemmRows() const { return 4; }
  virtual int64_t gemmTokens() const { return 4; }
  /// Bytes ahead of the current weight load that a GEMV prefetches.
  virtual int64_t prefetchDistance() const { return 8192; }
};

std::unique_ptr<MicroKernelIsa> createX86Avx2MicroKernel();
std::unique_ptr<MicroKernelIsa> createX86Avx512VnniMicroKernel();
std::unique_ptr<MicroKernelIsa> createArmNeonDotMicroKernel();

/// `codes` xor 0x80 bytewise: int8 codes c = Q + 128 back to Q.
Value int8CodesToSigned(OpBuilder &b, Location loc, Value codes);

/// The micro-kernel of `isa`; null for KernelIsa::None.
std::unique_ptr<MicroKernelIsa> createMicroKernel(KernelIsa isa);

/// Emits into `module` (once per shape) the kernel for y[M, N] = x[M, K] ·
/// Ŵ[N, K]ᵀ with (α, μ − α) per `group` columns, as an `llvm.func` of
/// `trt_rows_fn`'s signature (runtime.h) with internal linkage, and returns
/// it. Its name is `trt_ternary_<isa>_m<M>_n<N>_k<K>_g<group>`, with `_b8`
/// appended for int8 codes (`bits` = 8; see ternary.packed_linear) and
/// `_h` for (α, β) stored as f16 (`f16Meta`).
LLVM::LLVMFuncOp emitTernaryKernel(ModuleOp module, const MicroKernelIsa &isa,
                                   int64_t m, int64_t n, int64_t k,
                                   int64_t group, int64_t bits = 2,
                                   bool f16Meta = false);

/// Rows per register tile of the kernel for `m` tokens; the runtime splits
/// rows among threads in multiples of it.
int64_t kernelRowTile(const MicroKernelIsa &isa, int64_t m);

} // namespace mlir::terminator

#endif // TERMINATOR_LOWERING_TERNARYTOKERNELS_MICROKERNEL_H
