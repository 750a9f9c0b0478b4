// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels=isa=avx512-vnni | FileCheck %s --check-prefixes=CHECK,VNNI
// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels=isa=avx2 | FileCheck %s --check-prefixes=CHECK,AVX2
// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels=isa=neon-dotprod | FileCheck %s --check-prefixes=CHECK,NEON
// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels=isa=none | FileCheck %s --check-prefix=NONE
// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels | FileCheck %s --check-prefix=TARGET
// The whole AOT pipeline keeps the intrinsic and the prefetch in LLVM dialect.
// RUN: terminator-opt %s --split-input-file --convert-ternary-to-kernels=isa=avx512-vnni --terminator-aot-to-llvm | FileCheck %s --check-prefix=LLVM

// The layer becomes a call of the runtime with the kernel's address; the
// kernel is emitted once per shape, with the ISA's dot product.
// CHECK-LABEL: func.func @gemv
// CHECK: %[[FN:.*]] = llvm.mlir.addressof @trt_ternary_[[ISA:[a-z0-9_]+]]_m1_n13_k300_g0 : !llvm.ptr
// CHECK: call @trt_ternary_linear(%[[FN]],
// CHECK: bufferization.to_tensor %{{.*}} restrict writable : memref<1x13xf32>
// CHECK: llvm.func internal @trt_ternary_[[ISA]]_m1_n13_k300_g0(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CHECK: llvm.intr.prefetch
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<64xi8>, vector<64xi8>) -> vector<16xi32>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%{{.*}}, %{{.*}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %{{.*}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// NEON: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<4xi32>, vector<16xi8>, vector<16xi8>) -> vector<4xi32>
// CHECK: llvm.intr.vector.reduce.fadd
// NONE-LABEL: func.func @gemv
// NONE: ternary.packed_linear
// LLVM: llvm.func private @trt_ternary_linear(
// LLVM: llvm.call @_mlir_ciface_trt_ternary_linear(
// LLVM: llvm.func @gemv
// LLVM: llvm.mlir.addressof @trt_ternary_avx512_vnni_m1_n13_k300_g0
// LLVM: llvm.call @trt_ternary_linear(
// LLVM: llvm.func internal @trt_ternary_avx512_vnni_m1_n13_k300_g0
// LLVM: llvm.intr.prefetch
// LLVM: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
func.func @gemv(%x: tensor<1x300xf32>) -> tensor<1x13xf32> {
  %p = ternary.weight dense<85> : tensor<13x128xi8>
  %m = ternary.weight dense<1.0> : tensor<13x1x2xf32>
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<13x128xi8>, tensor<13x1x2xf32>) -> tensor<1x13xf32>
  return %y : tensor<1x13xf32>
}

// -----

// Three tokens of a [1, 3, K] input: a GEMM kernel for M = 3, the result
// expanded back, and the bias added after the kernel. Two layers of one
// shape share one kernel.
// CHECK-LABEL: func.func @gemm
// CHECK: llvm.mlir.addressof @trt_ternary_{{[a-z0-9_]+}}_m3_n6_k520_g64
// CHECK: tensor.expand_shape
// CHECK: linalg.generic
// CHECK: llvm.mlir.addressof @trt_ternary_{{[a-z0-9_]+}}_m3_n6_k520_g64
// CHECK: llvm.func internal @trt_ternary_{{[a-z0-9_]+}}_m3_n6_k520_g64
// CHECK-NOT: llvm.func internal @trt_ternary_{{[a-z0-9_]+}}_m3_
func.func @gemm(%x: tensor<1x3x520xf32>, %b: tensor<6xf32>) -> (tensor<1x3x6xf32>, tensor<1x3x6xf32>) {
  %p = ternary.weight dense<85> : tensor<6x192xi8>
  %m = ternary.weight dense<1.0> : tensor<6x12x2xf32>
  %y = ternary.packed_linear %x, %p, %m bias %b {cols = 520 : i64, group = 64 : i64} : (tensor<1x3x520xf32>, tensor<6x192xi8>, tensor<6x12x2xf32>, tensor<6xf32>) -> tensor<1x3x6xf32>
  %z = ternary.packed_linear %x, %p, %m {cols = 520 : i64, group = 64 : i64} : (tensor<1x3x520xf32>, tensor<6x192xi8>, tensor<6x12x2xf32>) -> tensor<1x3x6xf32>
  return %y, %z : tensor<1x3x6xf32>, tensor<1x3x6xf32>
}

// -----

// Without an isa option the module's target description decides.
// TARGET-LABEL: func.func @from_target
// TARGET-NOT: ternary.packed_linear
// TARGET: llvm.func internal @trt_ternary_avx2_m1_n2_k64_g0
module attributes {ternary.target = {triple = "x86_64-unknown-linux-gnu", cpu = "x86-64-v3", features = "+avx2,+fma"}} {
  func.func @from_target(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
    %p = ternary.weight dense<85> : tensor<2x64xi8>
    %m = ternary.weight dense<1.0> : tensor<2x1x2xf32>
    %y = ternary.packed_linear %x, %p, %m {cols = 64 : i64, group = 0 : i64} : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1x2xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}

// -----

// int8 codes (bits = 8) get their own kernel: vpdpbusd takes c = Q + 128
// as it is, AVX2 multiplies |Q| by q with Q's sign (vpmaddubsw would
// saturate), NEON's sdot takes Q = c xor 0x80.
// CHECK-LABEL: func.func @int8
// CHECK: llvm.func internal @trt_ternary_{{[a-z0-9_]+}}_m1_n3_k64_g0_b8
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.psign.b"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// NEON: arith.xori
// NEON: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
func.func @int8(%x: tensor<1x64xf32>) -> tensor<1x3xf32> {
  %p = ternary.weight dense<-125> : tensor<3x256xi8>
  %m = ternary.weight dense<1.0> : tensor<3x1x2xf32>
  %y = ternary.packed_linear %x, %p, %m {bits = 8 : i64, cols = 64 : i64, group = 0 : i64} : (tensor<1x64xf32>, tensor<3x256xi8>, tensor<3x1x2xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}

// -----

// f16 meta (ternary-ternarize scale-type=f16): a kernel of its own (`_h`)
// that widens each α and β with fpext, called through the runtime's f16
// entry.
// CHECK-LABEL: func.func @f16_meta
// CHECK: %[[FN:.*]] = llvm.mlir.addressof @trt_ternary_[[ISA:[a-z0-9_]+]]_m1_n13_k300_g0_h : !llvm.ptr
// CHECK: call @trt_ternary_linear_f16(%[[FN]], {{.*}} : (!llvm.ptr, memref<?x?xf32>, memref<?x?xi8>, memref<?x?xf16>,
// CHECK: llvm.func internal @trt_ternary_[[ISA]]_m1_n13_k300_g0_h(
// CHECK: llvm.load %{{.*}} {alignment = 1 : i64} : !llvm.ptr -> f16
// CHECK: llvm.fpext %{{.*}} : f16 to f32
func.func @f16_meta(%x: tensor<1x300xf32>) -> tensor<1x13xf32> {
  %p = ternary.weight dense<85> : tensor<13x128xi8>
  %m = ternary.weight dense<1.0> : tensor<13x1x2xf16>
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<13x128xi8>, tensor<13x1x2xf16>) -> tensor<1x13xf32>
  return %y : tensor<1x13xf32>
}

// -----

// int4 codes (bits = 4): their own kernel (`_b4`), nibbles split by a
// shift and a mask of 15 before the ISA's dot product.
// CHECK-LABEL: func.func @int4
// CHECK: llvm.mlir.addressof @trt_ternary_[[ISA:[a-z0-9_]+]]_m1_n13_k300_g0_b4 : !llvm.ptr
// CHECK: llvm.func internal @trt_ternary_[[ISA]]_m1_n13_k300_g0_b4(
// CHECK: arith.constant dense<15> : vector<{{[0-9]+}}xi8>
// CHECK: arith.shrui
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// NEON: llvm.call_intrinsic "llvm.aarch64.neon.sdot.v4i32.v16i8"
func.func @int4(%x: tensor<1x300xf32>) -> tensor<1x13xf32> {
  %p = ternary.weight dense<-119> : tensor<13x256xi8>
  %m = ternary.weight dense<1.0> : tensor<13x1x2xf32>
  %y = ternary.packed_linear %x, %p, %m {bits = 4 : i64, cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<13x256xi8>, tensor<13x1x2xf32>) -> tensor<1x13xf32>
  return %y : tensor<1x13xf32>
}
