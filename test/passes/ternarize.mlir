// RUN: terminator-opt %s --split-input-file --ternary-ternarize | FileCheck %s --check-prefix=ROW
// RUN: terminator-opt %s --split-input-file --ternary-ternarize=granularity=tensor | FileCheck %s --check-prefix=TENSOR
// RUN: terminator-opt %s --split-input-file --terminator-ternarize | FileCheck %s --check-prefix=PIPE
// RUN: terminator-opt %s --split-input-file --ternary-ternarize=scale-type=f16 | FileCheck %s --check-prefix=HALF
// RUN: terminator-opt %s --split-input-file --terminator-ternarize=scale-type=f16 | FileCheck %s --check-prefix=HALF

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
// ROW: [[CODES]]: "0x0400000001FF00010101FF00"
// ROW: [[SCALES]]: "0x040000000000603F6666463F"

// f16 scales: 0.875 = 0x3B00 and 0.775 rounds to 0x3A33 (0.77490234375).
// HALF-LABEL: func.func @linear
// HALF: %[[S:.*]] = ternary.weight dense_resource<[[SCALES:.*]]> : tensor<2x1xf16>
// HALF: ternary.qlinear %{{.*}} scales %[[S]] bias %{{.*}} encoding(#ternary.ternary<scale = f16>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf16>, tensor<2xf32>) -> tensor<1x2xf32>
// HALF: [[SCALES]]: "0x04000000003B333A"

// TENSOR: [[CODES:ternary.codes.*]]: "0x0400000001FF00010101FF00"
// TENSOR: [[SCALES:ternary.scales.*]]: "0x040000003333533F3333533F"

// The full-precision weight is gone.
// ROW-NOT: tensor<2x4xf32>
// The pipeline too.
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
// ROW: [[C:.*]]: "0x0400000000000000"
// ROW: [[S:.*]]: "0x0400000000000000"
func.func @zero_row(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %w = ternary.weight dense<0.0> : tensor<1x4xf32>
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// W = 1.0·[1, 0, -1, 0] + 0.5 is exactly representable: ITF recovers it, per
// row and (block 2: [1.5, 0.5] = 1·[1, 0] + 0.5, [-0.5, 0.5] = 0.5·[-1, 1])
// per block. ALS (symmetric) fits T = [1, 1, -1, 1], α = 0.75.
// RUN: terminator-opt %s --split-input-file --ternary-ternarize=method=itf | FileCheck %s --check-prefix=ITF
// RUN: terminator-opt %s --split-input-file --ternary-ternarize="method=itf block-size=2" | FileCheck %s --check-prefix=ITF2
// RUN: terminator-opt %s --split-input-file --ternary-ternarize=method=als | FileCheck %s --check-prefix=ALS
// ITF-LABEL: func.func @exact
// ITF: ternary.qlinear %{{.*}}, %{{.*}} scales %{{.*}} offsets %{{.*}} encoding(#ternary.ternary<offset = true>) : (tensor<1x4xf32>, tensor<1x4xi8>, tensor<1x1xf32>, tensor<1x1xf32>) -> tensor<1x1xf32>
// ITF: ternary.codes{{.*}}: "0x040000000100FF00"
// ITF: ternary.scales{{.*}}: "0x040000000000803F"
// ITF: ternary.offsets{{.*}}: "0x040000000000003F"
// ITF2-LABEL: func.func @exact
// ITF2: encoding(#ternary.ternary<block = 2, offset = true>) : (tensor<1x4xf32>, tensor<1x4xi8>, tensor<1x2xf32>, tensor<1x2xf32>)
// ITF2: ternary.codes{{.*}}: "0x040000000100FF01"
// ITF2: ternary.scales{{.*}}: "0x040000000000803F0000003F"
// ITF2: ternary.offsets{{.*}}: "0x040000000000003F00000000"
// ALS-LABEL: func.func @exact
// ALS: encoding(#ternary.ternary<>)
// ALS: ternary.codes{{.*}}: "0x040000000101FF01"
// ALS: ternary.scales{{.*}}: "0x040000000000403F"
func.func @exact(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %w = ternary.weight dense<[[1.5, 0.5, -0.5, 0.5]]> : tensor<1x4xf32>
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
