// Used by inline-params.mlir: entries that do not match their use.

module attributes {ternary.archive = "w.tpar"} {
  func.func @shape() -> tensor<3x2xf32> {
    // expected-error @+1 {{expects archive entry 'w' to be 'tensor<3x2xf32>', but w.tpar holds f32 2x3}}
    %w = ternary.weight #ternary.param<"w"> : tensor<3x2xf32>
    return %w : tensor<3x2xf32>
  }
}

// -----

module attributes {ternary.archive = "w.tpar"} {
  func.func @dtype() -> tensor<2x3xf16> {
    // expected-error @+1 {{expects archive entry 'w' to be 'tensor<2x3xf16>', but w.tpar holds f32 2x3}}
    %w = ternary.weight #ternary.param<"w"> : tensor<2x3xf16>
    return %w : tensor<2x3xf16>
  }
}

// -----

module attributes {ternary.archive = "w.tpar"} {
  func.func @absent() -> tensor<2x3xf32> {
    // expected-error @+1 {{'absent'}}
    %w = ternary.weight #ternary.param<"absent"> : tensor<2x3xf32>
    return %w : tensor<2x3xf32>
  }
}
