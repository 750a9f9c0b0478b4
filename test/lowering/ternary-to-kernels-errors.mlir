// RUN: not terminator-opt %s --convert-ternary-to-kernels=isa=sse9 2>&1 | FileCheck %s

// CHECK: error: convert-ternary-to-kernels: unknown isa 'sse9'; expected avx512-vnni, avx2, neon-dotprod or none
func.func @f(%x: tensor<1x64xf32>) -> tensor<1x2xf32> {
  %p = ternary.weight dense<85> : tensor<2x64xi8>
  %m = ternary.weight dense<1.0> : tensor<2x1x2xf32>
  %y = ternary.packed_linear %x, %p, %m {cols = 64 : i64, group = 0 : i64} : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
