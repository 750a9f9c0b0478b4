// RUN: terminator-opt %s --split-input-file --ternary-pack | FileCheck %s

// Columns 0, 1 and 64 of a 65-column row: -1, +1, +1; the rest 0. In the
// packed row (docs/kernels.md) byte j holds c = T + 1 of column j in bits
// 0..1 and of column 64 + j in bits 2..3: byte 0 = 0 | (2 << 2) = 0x08,
// byte 1 = 2, bytes 2..63 = 1. The meta pair is (α, μ − α) = (0.5, -0.25).
// CHECK-LABEL: func.func @per_row
// CHECK: %[[P:.*]] = ternary.weight dense_resource<[[PK:.*]]> : tensor<1x64xi8>
// CHECK: %[[M:.*]] = ternary.weight dense_resource<[[MK:.*]]> : tensor<1x1x2xf32>
// CHECK: ternary.packed_linear %{{.*}}, %[[P]], %[[M]] {cols = 65 : i64, group = 0 : i64}
// CHECK-NOT: ternary.qlinear
// CHECK: [[PK]]: "0x0400000008020101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101"
// CHECK: [[MK]]: "0x040000000000003F000080BE"
func.func @per_row(%x: tensor<1x65xf32>) -> tensor<1x1xf32> {
  %c = ternary.weight dense_resource<codes> : tensor<1x65xi8>
  %s = ternary.weight dense<0.5> : tensor<1x1xf32>
  %o = ternary.weight dense<0.25> : tensor<1x1xf32>
  %y = ternary.qlinear %x, %c scales %s offsets %o encoding(#ternary.ternary<offset = true>) : (tensor<1x65xf32>, tensor<1x65xi8>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

{-#
  dialect_resources: {
    builtin: {
      codes: "0x01000000FF01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"
    }
  }
#-}

// -----

// Groups of 128 columns: K = 300 pads to 512 columns, 4 groups of which the
// last (columns 384..511) is padding and stays zero.
// CHECK-LABEL: func.func @groups
// CHECK: ternary.packed_linear {{.*}} {cols = 300 : i64, group = 128 : i64} : (tensor<2x300xf32>, tensor<3x128xi8>, tensor<3x4x2xf32>) -> tensor<2x3xf32>
func.func @groups(%x: tensor<2x300xf32>) -> tensor<2x3xf32> {
  %c = ternary.weight dense<1> : tensor<3x300xi8>
  %s = ternary.weight dense<1.0> : tensor<3x3xf32>
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<block = 128>) : (tensor<2x300xf32>, tensor<3x300xi8>, tensor<3x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// int8 per row packs one byte per column, c = Q + 128 (past K: 128), with
// (α, β) = (s, -128·s); int4 two nibbles per byte, c = Q + 8 (past K: 8),
// with (s, -8·s): Q = 1 in columns 0..63 gives bytes 0..63 = 0x89 (column j
// low, padding column 64 + j high) and bytes 64..127 = 0x88. The encodings
// the kernels do not run (ternary groups of 32 columns) stay for the
// reference lowering.
// CHECK-LABEL: func.func @int8_and_left_alone
// CHECK: %[[P:.*]] = ternary.weight dense_resource<[[PK:.*]]> : tensor<2x256xi8>
// CHECK: %[[M:.*]] = ternary.weight dense_resource<[[MK:.*]]> : tensor<2x1x2xf32>
// CHECK: ternary.packed_linear %{{.*}}, %[[P]], %[[M]] {bits = 8 : i64, cols = 64 : i64, group = 0 : i64}
// CHECK: %[[P4:.*]] = ternary.weight dense_resource<[[PK4:.*]]> : tensor<2x128xi8>
// CHECK: %[[M4:.*]] = ternary.weight dense_resource<[[MK4:.*]]> : tensor<2x1x2xf32>
// CHECK: ternary.packed_linear %{{.*}}, %[[P4]], %[[M4]] {bits = 4 : i64, cols = 64 : i64, group = 0 : i64}
// CHECK: ternary.qlinear {{.*}} encoding(#ternary.ternary<block = 32>)
// CHECK: [[PK]]: "0x04000000838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838383838080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080807D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D7D808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080808080"
// CHECK: [[MK]]: "0x040000000000003F000080C20000803F000000C3"
// CHECK: [[PK4]]: "0x0400000089898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898989898988888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888888"
// CHECK: [[MK4]]: "0x040000000000803F000000C10000803F000000C1"
func.func @int8_and_left_alone(%x: tensor<1x64xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) {
  %c8 = ternary.weight dense<[[3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], [-3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3, -3]]> : tensor<2x64xi8>
  %s8 = ternary.weight dense<[[0.5], [1.0]]> : tensor<2x1xf32>
  %c = ternary.weight dense<1> : tensor<2x64xi8>
  %s = ternary.weight dense<1.0> : tensor<2x1xf32>
  %s2 = ternary.weight dense<1.0> : tensor<2x2xf32>
  %a = ternary.qlinear %x, %c8 scales %s8 encoding(#ternary.int<bits = 8>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  %b = ternary.qlinear %x, %c scales %s encoding(#ternary.int<bits = 4>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  %d = ternary.qlinear %x, %c scales %s2 encoding(#ternary.ternary<block = 32>) : (tensor<1x64xf32>, tensor<2x64xi8>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %a, %b, %d : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>
}

// -----

// f16 scales (ternary-ternarize scale-type=f16) give f16 meta: (α, μ − α) =
// (0.5, -0.25) = (0x3800, 0xB400), and int8's (s, -128·s) = (0.5, -64) =
// (0x3800, 0xD400).
// CHECK-LABEL: func.func @f16_meta
// CHECK: %[[M:.*]] = ternary.weight dense_resource<[[MK:.*]]> : tensor<1x1x2xf16>
// CHECK: ternary.packed_linear %{{.*}}, %{{.*}}, %[[M]] {cols = 65 : i64, group = 0 : i64} : (tensor<1x65xf32>, tensor<1x64xi8>, tensor<1x1x2xf16>) -> tensor<1x1xf32>
// CHECK: %[[M8:.*]] = ternary.weight dense_resource<[[MK8:.*]]> : tensor<1x1x2xf16>
// CHECK: ternary.packed_linear %{{.*}}, %{{.*}}, %[[M8]] {bits = 8 : i64, cols = 65 : i64, group = 0 : i64}
// CHECK: [[MK]]: "0x04000000003800B4"
// CHECK: [[MK8]]: "0x04000000003800D4"
func.func @f16_meta(%x: tensor<1x65xf32>) -> (tensor<1x1xf32>, tensor<1x1xf32>) {
  %c = ternary.weight dense<1> : tensor<1x65xi8>
  %s = ternary.weight dense<0.5> : tensor<1x1xf16>
  %o = ternary.weight dense<0.25> : tensor<1x1xf16>
  %y = ternary.qlinear %x, %c scales %s offsets %o encoding(#ternary.ternary<offset = true, scale = f16>) : (tensor<1x65xf32>, tensor<1x65xi8>, tensor<1x1xf16>, tensor<1x1xf16>) -> tensor<1x1xf32>
  %c8 = ternary.weight dense<3> : tensor<1x65xi8>
  %y8 = ternary.qlinear %x, %c8 scales %s encoding(#ternary.int<bits = 8, scale = f16>) : (tensor<1x65xf32>, tensor<1x65xi8>, tensor<1x1xf16>) -> tensor<1x1xf32>
  return %y, %y8 : tensor<1x1xf32>, tensor<1x1xf32>
}
