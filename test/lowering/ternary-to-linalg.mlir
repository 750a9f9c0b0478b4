// RUN: terminator-opt %s --split-input-file --convert-ternary-to-linalg | FileCheck %s

// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear
// CHECK: %[[WC:.*]] = arith.constant dense<{{.*}}> : tensor<2x3xf32>
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[W]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[WC]] : tensor<4x3xf32>, tensor<2x3xf32>) outs(%[[ACC]] : tensor<4x2xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: ternary.
func.func @linear(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = ternary.weight dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %y = ternary.linear %x, %w : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// The decode reads scales and offsets of group k floordiv 4.
// CHECK-DAG: #[[G:.*]] = affine_map<(d0, d1) -> (d0, d1 floordiv 4)>
// CHECK-LABEL: func.func @qlinear_block
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[G]], #[[G]], #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8xi8>, tensor<2x2xf16>, tensor<2x2xf16>)
// CHECK: arith.sitofp %{{.*}} : i8 to f32
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @qlinear_block(%x: tensor<1x8xf32>, %c: tensor<2x8xi8>, %s: tensor<2x2xf16>,
                         %m: tensor<2x2xf16>) -> tensor<1x2xf32> {
  %y = ternary.qlinear %x, %c scales %s offsets %m
         encoding(#ternary.ternary<block = 4, offset = true, scale = f16>)
         : (tensor<1x8xf32>, tensor<2x8xi8>, tensor<2x2xf16>, tensor<2x2xf16>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// CHECK-LABEL: func.func @permute
// CHECK: %[[P:.*]] = arith.constant dense<[1, 0]> : tensor<2xi16>
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<2xi16>)
// CHECK: tensor.extract
func.func @permute(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %p = ternary.permute %x [1, 0] : tensor<3x2xf32>
  return %p : tensor<3x2xf32>
}

// -----

// The sparse residual: each result element adds its row's entries (an
// scf.for from row_offsets[n] to row_offsets[n + 1]), f16 values widened.
// CHECK-LABEL: func.func @sparse_residual
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<2x3xf32>)
// CHECK: %[[N:.*]] = linalg.index 1 : index
// CHECK: tensor.extract %{{.*}}[%[[N]]] : tensor<4xi32>
// CHECK: scf.for
// CHECK: tensor.extract %{{.*}} : tensor<2xi32>
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: tensor.extract %{{.*}} : tensor<2x5xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: scf.yield
func.func @sparse_residual(%y: tensor<2x3xf32>, %x: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %r = arith.constant dense<[0, 1, 1, 2]> : tensor<4xi32>
  %c = arith.constant dense<[4, 0]> : tensor<2xi32>
  %v = arith.constant dense<[2.0, -1.0]> : tensor<2xf16>
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<4xi32>, tensor<2xi32>, tensor<2xf16>) -> tensor<2x3xf32>
  return %o : tensor<2x3xf32>
}
