// RUN: terminator-opt %s --split-input-file --convert-ternary-to-linalg --verify-diagnostics

func.func @archive_weight() -> tensor<2x3xf32> {
  // expected-error @+2 {{refers to the parameter archive; run ternary-inline-params before convert-ternary-to-linalg}}
  // expected-error @+1 {{failed to legalize operation 'ternary.weight'}}
  %w = ternary.weight #ternary.param<"w"> : tensor<2x3xf32>
  return %w : tensor<2x3xf32>
}

// -----

func.func @quantize_act(%x: tensor<3x8xf32>) -> (tensor<3x8xi8>, tensor<3xf32>) {
  // expected-error @+1 {{failed to legalize operation 'ternary.quantize_act'}}
  %q, %s = ternary.quantize_act %x : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3xf32>
  return %q, %s : tensor<3x8xi8>, tensor<3xf32>
}
