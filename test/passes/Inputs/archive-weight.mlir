// Used by ternarize-errors.mlir: a weight in the archive.
module attributes {ternary.archive = "model.tpar"} {
  func.func @f(%x: tensor<1x4xf32>) -> tensor<1x2xf32> {
    %w = ternary.weight #ternary.param<"layers.0.wq"> : tensor<2x4xf32>
    %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
    return %y : tensor<1x2xf32>
  }
}
