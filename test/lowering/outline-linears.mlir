// RUN: terminator-opt %s --terminator-outline-linears | FileCheck %s
// RUN: terminator-opt %s --terminator-outline-linears | grep -c "= ternary.q\?linear" | FileCheck %s --check-prefix=THREE
// THREE: {{^}}3{{$}}
// RUN: terminator-opt %s --terminator-outline-linears --convert-ternary-to-linalg | FileCheck %s --check-prefix=LOWERED

// Two layers of one shape share a function; another shape and a quantized
// layer get their own. Each is noinline, so LLVM keeps one loop nest per
// shape instead of one per layer.
// CHECK-LABEL: func.func @model
// CHECK-SAME: (%[[X:.*]]: tensor<1x4xf32>, %[[W1:.*]]: tensor<4x4xf32>, %[[W2:.*]]: tensor<4x4xf32>, %[[W3:.*]]: tensor<2x4xf32>, %[[C:.*]]: tensor<2x4xi8>, %[[S:.*]]: tensor<2x1xf32>)
// CHECK-NOT: ternary.linear
// CHECK-NOT: ternary.qlinear
// CHECK: %[[A:.*]] = call @[[SQ:trt_linear[_0-9]*]](%[[X]], %[[W1]]) : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
// CHECK: %[[B:.*]] = call @[[SQ]](%[[A]], %[[W2]])
// CHECK: %[[Y:.*]] = call @[[WIDE:trt_linear[_0-9]*]](%[[B]], %[[W3]]) : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
// CHECK: %[[Q:.*]] = call @[[QL:trt_linear[_0-9]*]](%[[B]], %[[C]], %[[S]])
// CHECK: return %[[Y]], %[[Q]]
// CHECK-DAG: func.func private @[[SQ]](%{{.*}}: tensor<1x4xf32>, %{{.*}}: tensor<4x4xf32>) -> tensor<1x4xf32> attributes {passthrough = ["noinline"]}
// CHECK-DAG: func.func private @[[WIDE]](%{{.*}}: tensor<1x4xf32>, %{{.*}}: tensor<2x4xf32>) -> tensor<1x2xf32> attributes {passthrough = ["noinline"]}
// CHECK-DAG: func.func private @[[QL]]({{.*}}) -> tensor<1x2xf32> attributes {passthrough = ["noinline"]}
// LOWERED-COUNT-3: linalg.generic {{.*}}"reduction"
// LOWERED-NOT: linalg.generic {{.*}}"reduction"
func.func @model(%x: tensor<1x4xf32>, %w1: tensor<4x4xf32>, %w2: tensor<4x4xf32>, %w3: tensor<2x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>) {
  %a = ternary.linear %x, %w1 : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %b = ternary.linear %a, %w2 : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  %y = ternary.linear %b, %w3 : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  %q = ternary.qlinear %b, %c scales %s encoding(#ternary.ternary<block = 0, offset = false, scale = f32>)
         : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y, %q : tensor<1x2xf32>, tensor<1x2xf32>
}
