// RUN: terminator-opt %s --split-input-file --ternary-split-outliers=fraction=0.25 | FileCheck %s
// RUN: terminator-opt %s --split-input-file --terminator-ternarize=outliers=0.25 | FileCheck %s --check-prefix=PIPE
// RUN: not terminator-opt %s --split-input-file --ternary-split-outliers 2>&1 | FileCheck %s --check-prefix=NOFRACTION
// RUN: not terminator-opt %s --split-input-file --ternary-split-outliers=fraction=1 2>&1 | FileCheck %s --check-prefix=NOFRACTION
// NOFRACTION: error: ternary-split-outliers: fraction must be in (0, 1), e.g. 0.005 for half a percent of each matrix

// A quarter of 8 weights: the 2 largest |w| (no calibration) are 2.0 at
// [0, 3] and, of the four tied at 1.0, the first in row-major order, -1.0 at
// [0, 1]. S in CSR: rows [0, 2, 2], cols [1, 3], values f16 [-1, 2] =
// [0xBC00, 0x4000]; W' keeps the rest with those two zeroed.
// CHECK-LABEL: func.func @linear
// CHECK: %[[B:.*]] = ternary.weight dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[W:.*]] = ternary.weight dense_resource<[[WK:.*]]> : tensor<2x4xf32>
// CHECK: %[[R:.*]] = ternary.weight dense_resource<[[RK:.*]]> : tensor<3xi32>
// CHECK: %[[C:.*]] = ternary.weight dense_resource<[[CK:.*]]> : tensor<2xi32>
// CHECK: %[[V:.*]] = ternary.weight dense_resource<[[VK:.*]]> : tensor<2xf16>
// CHECK: %[[D:.*]] = ternary.linear %[[X:.*]], %[[W]], %[[B]]
// CHECK: %[[Y:.*]] = ternary.sparse_residual %[[D]], %[[X]], %[[R]], %[[C]], %[[V]] : (tensor<1x2xf32>, tensor<1x4xf32>, tensor<3xi32>, tensor<2xi32>, tensor<2xf16>) -> tensor<1x2xf32>
// CHECK: return %[[Y]]
// CHECK: [[WK]]: "0x040000000000003F0000000000000000000000000000803F0000803F000080BFCDCCCC3D"
// CHECK: [[RK]]: "0x04000000000000000200000002000000"
// CHECK: [[CK]]: "0x040000000100000003000000"
// CHECK: [[VK]]: "0x0400000000BC0040"
// The pipeline splits before it ternarizes W'.
// PIPE: %[[Q:.*]] = ternary.qlinear
// PIPE: ternary.sparse_residual %[[Q]]
func.func @linear(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ternary.weight dense<[[0.5, -1.0, 0.0, 2.0], [1.0, 1.0, -1.0, 0.1]]> : tensor<2x4xf32>
  %b = ternary.weight dense<[1.0, 2.0]> : tensor<2xf32>
  %y = ternary.linear %x, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A layer kept in f32 (or int4, int8) by mixed precision is left alone.
// CHECK-LABEL: func.func @kept_f32
// CHECK-NOT: sparse_residual
// CHECK: ternary.linear
// CHECK-NOT: sparse_residual
func.func @kept_f32(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ternary.weight dense<[[0.5, -1.0, 0.0, 2.0], [1.0, 1.0, -1.0, 0.1]]> : tensor<2x4xf32>
  %y = ternary.linear %x, %w {ternary.precision = "f32"} : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
