// RUN: terminator-opt %s --split-input-file | terminator-opt --split-input-file | FileCheck %s
// RUN: terminator-opt %s --split-input-file --mlir-print-op-generic | terminator-opt --split-input-file | FileCheck %s

// Round trip of every ternary op and attribute, in the custom and the generic
// form.

// CHECK: module attributes {ternary.archive = "model.tpar"}
module attributes {ternary.archive = "model.tpar"} {
  // CHECK-LABEL: func.func @weights
  func.func @weights() -> (tensor<4x8xf32>, tensor<2xf32>, tensor<2x2xi8>) {
    // CHECK: ternary.weight #ternary.param<"layers.0.attention.wq"> : tensor<4x8xf32>
    %p = ternary.weight #ternary.param<"layers.0.attention.wq"> : tensor<4x8xf32>
    // CHECK: ternary.weight dense<[5.000000e-01, -1.000000e+00]> : tensor<2xf32>
    %d = ternary.weight dense<[0.5, -1.0]> : tensor<2xf32>
    // CHECK: ternary.weight dense_resource<codes> : tensor<2x2xi8>
    %r = ternary.weight dense_resource<codes> : tensor<2x2xi8>
    return %p, %d, %r : tensor<4x8xf32>, tensor<2xf32>, tensor<2x2xi8>
  }
}

{-#
  dialect_resources: {
    builtin: {
      codes: "0x0100000001FF0001"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<1x7x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>,
                  %d: tensor<?x8xf32>) -> (tensor<1x7x4xf32>, tensor<?x4xf32>) {
  // CHECK: %[[Y:.*]] = ternary.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x7x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<1x7x4xf32>
  %y = ternary.linear %x, %w, %b : (tensor<1x7x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<1x7x4xf32>
  // CHECK: ternary.linear %{{.*}}, %{{.*}} : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %z = ternary.linear %d, %w : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  return %y, %z : tensor<1x7x4xf32>, tensor<?x4xf32>
}

// -----

// CHECK-LABEL: func.func @qlinear_ternary_per_row
func.func @qlinear_ternary_per_row(%x: tensor<3x8xf32>, %c: tensor<4x8xi8>,
                                   %s: tensor<4x1xf32>) -> tensor<3x4xf32> {
  // CHECK: ternary.qlinear %{{.*}}, %{{.*}} scales %{{.*}} encoding(#ternary.ternary<>) :
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>)
         : (tensor<3x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// CHECK-LABEL: func.func @qlinear_ternary_block_offset
func.func @qlinear_ternary_block_offset(%x: tensor<1x10xf32>, %c: tensor<4x10xi8>,
    %s: tensor<4x3xf16>, %m: tensor<4x3xf16>, %b: tensor<4xf32>) -> tensor<1x4xf32> {
  // CHECK: ternary.qlinear %{{.*}}, %{{.*}} scales %{{.*}} offsets %{{.*}} bias %{{.*}} encoding(#ternary.ternary<block = 4, offset = true, scale = f16>) :
  %y = ternary.qlinear %x, %c scales %s offsets %m bias %b
         encoding(#ternary.ternary<block = 4, offset = true, scale = f16>)
         : (tensor<1x10xf32>, tensor<4x10xi8>, tensor<4x3xf16>, tensor<4x3xf16>, tensor<4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// The defaults are elided when printed.
// CHECK-LABEL: func.func @qlinear_ternary_defaults
func.func @qlinear_ternary_defaults(%x: tensor<1x8xf32>, %c: tensor<4x8xi8>,
                                    %s: tensor<4x1xf32>) -> tensor<1x4xf32> {
  // CHECK: encoding(#ternary.ternary<>) :
  %y = ternary.qlinear %x, %c scales %s
         encoding(#ternary.ternary<block = 0, offset = false, scale = f32>)
         : (tensor<1x8xf32>, tensor<4x8xi8>, tensor<4x1xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @qlinear_int
func.func @qlinear_int(%x: tensor<2x64xf32>, %c: tensor<8x64xi8>, %s8: tensor<8x1xf32>,
                       %s4: tensor<8x2xbf16>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  // CHECK: encoding(#ternary.int<bits = 8>) :
  %a = ternary.qlinear %x, %c scales %s8 encoding(#ternary.int<bits = 8>)
         : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x1xf32>) -> tensor<2x8xf32>
  // CHECK: encoding(#ternary.int<bits = 4, group = 32, scale = bf16>) :
  %b = ternary.qlinear %x, %c scales %s4 encoding(#ternary.int<bits = 4, group = 32, scale = bf16>)
         : (tensor<2x64xf32>, tensor<8x64xi8>, tensor<8x2xbf16>) -> tensor<2x8xf32>
  return %a, %b : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @qlinear_float
func.func @qlinear_float(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %h: tensor<4x8xf16>)
    -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  // CHECK: encoding(#ternary.float<>) :
  %a = ternary.qlinear %x, %w encoding(#ternary.float<>)
         : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  // CHECK: encoding(#ternary.float<type = f16>) :
  %b = ternary.qlinear %x, %h encoding(#ternary.float<type = f16>)
         : (tensor<2x8xf32>, tensor<4x8xf16>) -> tensor<2x4xf32>
  return %a, %b : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @permute
func.func @permute(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // CHECK: ternary.permute %{{.*}} [2, 0, 3, 1] : tensor<2x4xf32>
  %p = ternary.permute %x [2, 0, 3, 1] : tensor<2x4xf32>
  return %p : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @sparse_residual
func.func @sparse_residual(%y: tensor<1x4xf32>, %x: tensor<1x8xf32>, %rows: tensor<5xi32>,
                           %cols: tensor<3xi32>, %vals: tensor<3xf32>) -> tensor<1x4xf32> {
  // CHECK: ternary.sparse_residual %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<1x4xf32>
  %r = ternary.sparse_residual %y, %x, %rows, %cols, %vals
         : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func.func @quantize_act
func.func @quantize_act(%x: tensor<3x8xf32>) -> (tensor<3x8xi8>, tensor<3xf32>) {
  // CHECK: ternary.quantize_act %{{.*}} : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3xf32>
  %q, %s = ternary.quantize_act %x : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3xf32>
  return %q, %s : tensor<3x8xi8>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @packed_linear
func.func @packed_linear(%x: tensor<2x3x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x4x2xf32>, %b: tensor<8xf32>) -> tensor<2x3x8xf32> {
  // CHECK: ternary.packed_linear %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} {cols = 300 : i64, group = 128 : i64} : (tensor<2x3x300xf32>, tensor<8x128xi8>, tensor<8x4x2xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %y = ternary.packed_linear %x, %p, %m bias %b {cols = 300 : i64, group = 128 : i64} : (tensor<2x3x300xf32>, tensor<8x128xi8>, tensor<8x4x2xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// -----

// (α, β) stored as f16.
// CHECK-LABEL: func.func @packed_linear_f16_meta
func.func @packed_linear_f16_meta(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf16>) -> tensor<1x8xf32> {
  // CHECK: ternary.packed_linear %{{.*}}, %{{.*}}, %{{.*}} {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf16>) -> tensor<1x8xf32>
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf16>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
