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
// CHECK: %[[P:.*]] = arith.constant dense<[1, 0]> : tensor<2xi64>
// CHECK: linalg.generic {{.*}} ins(%[[P]] : tensor<2xi64>)
// CHECK: tensor.extract
func.func @permute(%x: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %p = ternary.permute %x [1, 0] : tensor<3x2xf32>
  return %p : tensor<3x2xf32>
}
