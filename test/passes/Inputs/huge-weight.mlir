// A weight whose absmean scale (1e5) exceeds the f16 range.
func.func @huge(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %w = ternary.weight dense<[[1.0e5, -1.0e5, 1.0e5, -1.0e5]]> : tensor<1x4xf32>
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
