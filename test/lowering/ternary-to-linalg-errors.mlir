// RUN: terminator-opt %s --split-input-file --convert-ternary-to-linalg --verify-diagnostics

func.func @archive_weight() -> tensor<2x3xf32> {
  // expected-error @+2 {{refers to the parameter archive; run ternary-inline-params before convert-ternary-to-linalg}}
  // expected-error @+1 {{failed to legalize operation 'ternary.weight'}}
  %w = ternary.weight #ternary.param<"w"> : tensor<2x3xf32>
  return %w : tensor<2x3xf32>
}

// -----

func.func @sparse(%y: tensor<1x2xf32>, %x: tensor<1x3xf32>, %r: tensor<3xi32>, %c: tensor<1xi32>, %v: tensor<1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{failed to legalize operation 'ternary.sparse_residual'}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x2xf32>, tensor<1x3xf32>, tensor<3xi32>, tensor<1xi32>, tensor<1xf32>) -> tensor<1x2xf32>
  return %o : tensor<1x2xf32>
}
