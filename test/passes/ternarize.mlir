// RUN: terminator-opt %s --split-input-file --ternary-ternarize | FileCheck %s --check-prefix=ROW
// RUN: terminator-opt %s --split-input-file --ternary-ternarize=granularity=tensor | FileCheck %s --check-prefix=TENSOR
// RUN: terminator-opt %s --split-input-file --terminator-ternarize | FileCheck %s --check-prefix=PIPE

// Row 0 = [0.5, -1, 0, 2]: mean|w| = 0.875 (0x3F600000), codes [1, -1, 0, 1].
// Row 1 = [1, 1, -1, 0.1]: mean|w| = 0.775 (0x3F466666), codes [1, 1, -1, 0].
// Per tensor: s = 0.825 (0x3F533333); row 1 codes stay [1, 1, -1, 0], row 0
// codes stay [1, -1, 0, 1] as well.

// ROW-LABEL: func.func @linear
// ROW: %[[C:.*]] = ternary.weight dense_resource<[[CODES:.*]]> : tensor<2x4xi8>
// ROW: %[[S:.*]] = ternary.weight dense_resource<[[SCALES:.*]]> : tensor<2x1xf32>
// ROW: %[[Y:.*]] = ternary.qlinear %{{.*}}, %[[C]] scales %[[S]] bias %{{.*}} encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<1x2xf32>
// ROW-NOT: ternary.linear
// ROW: return %[[Y]]
// ROW: [[CODES]]: "0x0100000001FF00010101FF00"
// ROW: [[SCALES]]: "0x040000000000603F6666463F"

// TENSOR: [[CODES:ternary_codes.*]]: "0x0100000001FF00010101FF00"
// TENSOR: [[SCALES:ternary_scales.*]]: "0x040000003333533F3333533F"

// The pipeline also drops the unused full-precision weight.
// PIPE-LABEL: func.func @linear
// PIPE-NOT: tensor<2x4xf32>
// PIPE: ternary.qlinear
func.func @linear(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ternary.weight dense<[[0.5, -1.0, 0.0, 2.0], [1.0, 1.0, -1.0, 0.1]]> : tensor<2x4xf32>
  %b = ternary.weight dense<[1.0, 2.0]> : tensor<2xf32>
  %y = ternary.linear %x, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// An all-zero row gets scale 0 and zero codes, not NaN.
// ROW-LABEL: func.func @zero_row
// ROW: [[C:.*]]: "0x0100000000000000"
// ROW: [[S:.*]]: "0x0400000000000000"
func.func @zero_row(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %w = ternary.weight dense<0.0> : tensor<1x4xf32>
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
