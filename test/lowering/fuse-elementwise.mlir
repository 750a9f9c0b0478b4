// RUN: terminator-opt %s --split-input-file --terminator-fuse-elementwise --canonicalize | FileCheck %s

// A decode step's scores with grouped-query attention, as imported: the
// cache of 2 KV heads is repeated for 4 query heads (Unsqueeze, Expand,
// Reshape), transposed, then multiplied with the query. After fusion one
// contraction reads the cache where it lies, the query head h = 2·g + r
// reading KV head g.
// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, 0, d4, d5)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @gqa_scores
// CHECK-SAME: (%[[QA:.*]]: tensor<1x4x1x8xf32>, %[[KA:.*]]: tensor<1x2x16x8xf32>)
// CHECK-NOT: tensor.reshape
// CHECK-DAG: %[[QE:.*]] = tensor.expand_shape %[[QA]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [1, 2, 2, 1, 8]
// CHECK-DAG: %[[KE:.*]] = tensor.expand_shape %[[KA]] {{\[\[}}0], [1], [2, 3], [4]] output_shape [1, 2, 1, 16, 8]
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], #[[S]]], {{.*}} ins(%[[QE]], %[[KE]] : tensor<1x2x2x1x8xf32>, tensor<1x2x1x16x8xf32>)
// CHECK-NOT: linalg.generic
// CHECK: tensor.collapse_shape %[[R]]
#q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k = affine_map<(b, h, i, j, d) -> (b, h, d, j)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>
#in5 = affine_map<(a, b, c, d, e) -> (a, b, 0, d, e)>
#out5 = affine_map<(a, b, c, d, e) -> (a, b, c, d, e)>
func.func @gqa_scores(%q: tensor<1x4x1x8xf32>, %cache: tensor<1x2x16x8xf32>) -> tensor<1x4x1x16xf32> {
  %s5 = arith.constant dense<[1, 2, 1, 16, 8]> : tensor<5xi64>
  %k5 = tensor.reshape %cache(%s5) : (tensor<1x2x16x8xf32>, tensor<5xi64>) -> tensor<1x2x1x16x8xf32>
  %e = tensor.empty() : tensor<1x2x2x16x8xf32>
  %rep = linalg.generic {indexing_maps = [#in5, #out5], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k5 : tensor<1x2x1x16x8xf32>) outs(%e : tensor<1x2x2x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x16x8xf32>
  %s4 = arith.constant dense<[1, 4, 16, 8]> : tensor<4xi64>
  %k4 = tensor.reshape %rep(%s4) : (tensor<1x2x2x16x8xf32>, tensor<4xi64>) -> tensor<1x4x16x8xf32>
  %te = tensor.empty() : tensor<1x4x8x16xf32>
  %kt = linalg.transpose ins(%k4 : tensor<1x4x16x8xf32>) outs(%te : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %zero = arith.constant 0.0 : f32
  %se = tensor.empty() : tensor<1x4x1x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%se : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %r = linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %kt : tensor<1x4x1x8xf32>, tensor<1x4x8x16xf32>) outs(%init : tensor<1x4x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  } -> tensor<1x4x1x16xf32>
  return %r : tensor<1x4x1x16xf32>
}

// -----

// A dequantization (an elementwise op that computes) fuses into a product
// that runs no more iterations (one token), not into one that would
// recompute it for every token; a value with two uses stays.
// CHECK-LABEL: func.func @dequant
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func @dequant_prefill
// CHECK-COUNT-2: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
#w = affine_map<(n, k) -> (n, k)>
#row = affine_map<(n, k) -> (n)>
#x = affine_map<(m, n, k) -> (m, k)>
#wt = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>
func.func @dequant(%codes: tensor<32x64xf32>, %alpha: tensor<32xf32>, %x: tensor<1x64xf32>) -> (tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) {
  %e = tensor.empty() : tensor<32x64xf32>
  %w = linalg.generic {indexing_maps = [#w, #row, #w], iterator_types = ["parallel", "parallel"]} ins(%codes, %alpha : tensor<32x64xf32>, tensor<32xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%c: f32, %a: f32, %out: f32):
    %v = arith.mulf %c, %a : f32
    linalg.yield %v : f32
  } -> tensor<32x64xf32>
  %w2 = linalg.generic {indexing_maps = [#w, #row, #w], iterator_types = ["parallel", "parallel"]} ins(%codes, %alpha : tensor<32x64xf32>, tensor<32xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%c: f32, %a: f32, %out: f32):
    %v = arith.addf %c, %a : f32
    linalg.yield %v : f32
  } -> tensor<32x64xf32>
  %zero = arith.constant 0.0 : f32
  %ye = tensor.empty() : tensor<1x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%ye : tensor<1x32xf32>) -> tensor<1x32xf32>
  %y = linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  } -> tensor<1x32xf32>
  %y2 = linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w2 : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  } -> tensor<1x32xf32>
  %y3 = linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w2 : tensor<1x64xf32>, tensor<32x64xf32>) outs(%init : tensor<1x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  } -> tensor<1x32xf32>
  return %y, %y2, %y3 : tensor<1x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>
}

func.func @dequant_prefill(%codes: tensor<32x64xf32>, %alpha: tensor<32xf32>, %x: tensor<4x64xf32>) -> tensor<4x32xf32> {
  %e = tensor.empty() : tensor<32x64xf32>
  %w = linalg.generic {indexing_maps = [#w, #row, #w], iterator_types = ["parallel", "parallel"]} ins(%codes, %alpha : tensor<32x64xf32>, tensor<32xf32>) outs(%e : tensor<32x64xf32>) {
  ^bb0(%c: f32, %a: f32, %out: f32):
    %v = arith.mulf %c, %a : f32
    linalg.yield %v : f32
  } -> tensor<32x64xf32>
  %zero = arith.constant 0.0 : f32
  %ye = tensor.empty() : tensor<4x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%ye : tensor<4x32xf32>) -> tensor<4x32xf32>
  %y = linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x, %w : tensor<4x64xf32>, tensor<32x64xf32>) outs(%init : tensor<4x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %acc, %p : f32
    linalg.yield %t : f32
  } -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}
