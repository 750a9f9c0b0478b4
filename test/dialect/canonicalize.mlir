// RUN: terminator-opt %s --split-input-file --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @identity_permute
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NOT: ternary.permute
// CHECK: return %[[X]]
func.func @identity_permute(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %p = ternary.permute %x [0, 1, 2] : tensor<2x3xf32>
  return %p : tensor<2x3xf32>
}

// -----

// permute(permute(x, [1, 2, 0]), [2, 0, 1])[i] = x[[1, 2, 0][[2, 0, 1][i]]]
// = x[[0, 1, 2][i]]: the pair cancels.
// CHECK-LABEL: func.func @inverse_pair
// CHECK-SAME: (%[[X:.*]]: tensor<1x3xf32>)
// CHECK-NOT: ternary.permute
// CHECK: return %[[X]]
func.func @inverse_pair(%x: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %a = ternary.permute %x [1, 2, 0] : tensor<1x3xf32>
  %b = ternary.permute %a [2, 0, 1] : tensor<1x3xf32>
  return %b : tensor<1x3xf32>
}

// -----

// CHECK-LABEL: func.func @compose
// CHECK-SAME: (%[[X:.*]]: tensor<1x4xf32>)
// CHECK: %[[P:.*]] = ternary.permute %[[X]] [3, 2, 0, 1] : tensor<1x4xf32>
// CHECK-NOT: ternary.permute
// CHECK: return %[[P]]
func.func @compose(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = ternary.permute %x [1, 0, 3, 2] : tensor<1x4xf32>
  %b = ternary.permute %a [2, 3, 1, 0] : tensor<1x4xf32>
  return %b : tensor<1x4xf32>
}
