// RUN: terminator-opt %s --split-input-file --verify-diagnostics --ternary-ternarize
// RUN: not terminator-opt %s --split-input-file --ternary-ternarize=method=magic 2>&1 | FileCheck %s --check-prefix=METHOD
// RUN: not terminator-opt %s --split-input-file --ternary-ternarize=granularity=column 2>&1 | FileCheck %s --check-prefix=GRAN

// RUN: not terminator-opt %s --split-input-file --ternary-ternarize=block-size=-1 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not terminator-opt %s --split-input-file --ternary-ternarize=scale-type=bf16 2>&1 | FileCheck %s --check-prefix=SCALETYPE
// SCALETYPE: error: ternary-ternarize: unknown scale-type 'bf16'; expected f32 or f16
// A scale beyond the f16 range is refused, not stored as infinity.
// RUN: not terminator-opt %S/Inputs/huge-weight.mlir --ternary-ternarize=scale-type=f16 2>&1 | FileCheck %s --check-prefix=F16RANGE
// F16RANGE: error: 'ternary.linear' op cannot store its scales or offsets as f16: a value exceeds the f16 range (65504); use scale-type=f32 (terminator-compile --scale-type f32)
// RUN: not terminator-opt %S/Inputs/archive-weight.mlir --ternary-ternarize 2>&1 | FileCheck %s --check-prefix=NOOUT

// METHOD: error: ternary-ternarize: unknown method 'magic'; expected absmean, als, itf or pt2
// BLOCK: error: ternary-ternarize: block-size must be >= 0, but got -1
// NOOUT: error: ternary-ternarize: weights come from the archive model.tpar; set output-archive=PATH for the ternarized weights
// GRAN: error: ternary-ternarize: unknown granularity 'column'; expected tensor or row

func.func @argument_weight(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{cannot be ternarized: its weight is not produced by ternary.weight}}
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @f16_weight(%x: tensor<1x4xf16>) -> tensor<1x2xf16> {
  %w = ternary.weight dense<1.0> : tensor<2x4xf16>
  // expected-error @+1 {{cannot be ternarized: expects an f32 weight, but got 'f16'}}
  %y = ternary.linear %x, %w : (tensor<1x4xf16>, tensor<2x4xf16>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

// -----

func.func @missing_blob(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
  %w = ternary.weight dense_resource<absent> : tensor<2x4xf32>
  // expected-error @+1 {{cannot be ternarized: the dense_resource blob of its weight is missing}}
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
