// RUN: terminator-opt %s --split-input-file --terminator-kv-cache-in-place | FileCheck %s
// RUN: terminator-opt %s --split-input-file --terminator-kv-cache-in-place --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s --check-prefix=BUF

// A decode step: present = concat(past, new) for keys and values. Both
// become in-place writes at the slot of a new last argument, the cache
// arguments take the present type, and the presents leave the results.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x1x8xf32>, %[[K:.*]]: tensor<1x4x16x8xf32>, %[[V:.*]]: tensor<1x4x16x8xf32>, %[[SLOT:.*]]: tensor<1xi64> {terminator.cache_slot}) -> tensor<1x4x1x16xf32>
// CHECK-SAME: attributes {terminator.in_place_cache = array<i64: 1, 2>}
// CHECK: %[[RAW:.*]] = tensor.extract %[[SLOT]]
// CHECK: %[[I:.*]] = arith.index_cast %[[RAW]] : i64 to index
// CHECK: %[[PK:.*]] = tensor.insert_slice %[[X]] into %[[K]][0, 0, %[[I]], 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK: %[[PV:.*]] = tensor.insert_slice %[[X]] into %[[V]][0, 0, %[[I]], 0] [1, 4, 1, 8] [1, 1, 1, 1]
// CHECK-NOT: tensor.concat
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[PK]]
// CHECK: return %{{.*}} : tensor<1x4x1x16xf32>
// Bufferized, the new slot is copied into the caller's cache and the
// scores read that buffer: no allocation, no copy of the cache.
// BUF-LABEL: func.func @decode
// BUF-SAME: (%{{.*}}: memref<1x4x1x8xf32>, %[[BK:.*]]: memref<1x4x16x8xf32>, %[[BV:.*]]: memref<1x4x16x8xf32>, %{{.*}}: memref<1xi64> {terminator.cache_slot}) -> memref<1x4x1x16xf32>
// BUF-NOT: memref.alloc() : memref<1x4x16x8xf32>
// BUF: %[[SUB:.*]] = memref.subview %[[BK]][0, 0, %{{.*}}, 0] [1, 4, 1, 8] [1, 1, 1, 1]
// BUF: memref.copy %{{.*}}, %[[SUB]]
// BUF: linalg.generic {{.*}} ins(%{{.*}}, %[[BK]] : memref<1x4x1x8xf32>, memref<1x4x16x8xf32>)
func.func @decode(%x: tensor<1x4x1x8xf32>, %past_k: tensor<1x4x15x8xf32>, %past_v: tensor<1x4x15x8xf32>) -> (tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>) {
  %k = tensor.concat dim(2) %past_k, %x : (tensor<1x4x15x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x16x8xf32>
  %v = tensor.concat dim(2) %past_v, %x : (tensor<1x4x15x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x1x16xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, h, q, j, d) -> (b, h, q, d)>, affine_map<(b, h, q, j, d) -> (b, h, j, d)>, affine_map<(b, h, q, j, d) -> (b, h, q, j)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%x, %k : tensor<1x4x1x8xf32>, tensor<1x4x16x8xf32>) outs(%init : tensor<1x4x1x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %acc, %p : f32
    linalg.yield %r : f32
  } -> tensor<1x4x1x16xf32>
  return %s, %k, %v : tensor<1x4x1x16xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>
}

// -----

// A prefill: the past has no slots, so there is no cache to update.
// CHECK-LABEL: func.func @prefill
// CHECK-SAME: -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>)
// CHECK-NOT: cache_slot
// CHECK: tensor.concat
func.func @prefill(%x: tensor<1x4x4x8xf32>, %past: tensor<1x4x0x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) {
  %k = tensor.concat dim(2) %past, %x : (tensor<1x4x0x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %x, %k : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
}

// -----

// Left alone: two new slots per step, a past read elsewhere too, and a
// concat that is not returned.
// CHECK-LABEL: func.func @not_a_cache
// CHECK-NOT: cache_slot
// CHECK-COUNT-3: tensor.concat
func.func @not_a_cache(%x2: tensor<1x4x2x8xf32>, %p1: tensor<1x4x6x8xf32>, %x: tensor<1x4x1x8xf32>, %p2: tensor<1x4x7x8xf32>, %p3: tensor<1x4x7x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x7x8xf32>, tensor<1x4x1x8xf32>) {
  %a = tensor.concat dim(2) %p1, %x2 : (tensor<1x4x6x8xf32>, tensor<1x4x2x8xf32>) -> tensor<1x4x8x8xf32>
  %b = tensor.concat dim(2) %p2, %x : (tensor<1x4x7x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x8x8xf32>
  %c = tensor.concat dim(2) %p3, %x : (tensor<1x4x7x8xf32>, tensor<1x4x1x8xf32>) -> tensor<1x4x8x8xf32>
  %d = tensor.extract_slice %c[0, 0, 7, 0] [1, 4, 1, 8] [1, 1, 1, 1] : tensor<1x4x8x8xf32> to tensor<1x4x1x8xf32>
  return %a, %b, %p2, %d : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>, tensor<1x4x7x8xf32>, tensor<1x4x1x8xf32>
}
