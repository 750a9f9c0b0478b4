// A two-layer MLP with inline weights: the example the README's first
// command ternarizes until the ahead-of-time compiler lands.
//
//   terminator-opt --terminator-ternarize examples/two-layer.mlir
//
// Both ternary.linear ops become ternary.qlinear with 2-bit codes and one f32
// scale per row; the full-precision weights disappear.
func.func @mlp(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
  %w1 = ternary.weight dense<[
    [ 0.12, -0.40,  0.05,  0.33, -0.21,  0.02,  0.44, -0.10],
    [-0.31,  0.08,  0.27, -0.02,  0.15, -0.38,  0.01,  0.22],
    [ 0.05,  0.19, -0.42,  0.11,  0.30, -0.07, -0.25,  0.36],
    [ 0.41, -0.13,  0.09, -0.29,  0.03,  0.24, -0.18,  0.06]]> : tensor<4x8xf32>
  %b1 = ternary.weight dense<[0.01, -0.02, 0.03, 0.0]> : tensor<4xf32>
  %h = ternary.linear %x, %w1, %b1
         : (tensor<1x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<1x4xf32>
  %w2 = ternary.weight dense<[
    [ 0.50, -0.25,  0.10,  0.00],
    [-0.05,  0.45, -0.35,  0.20],
    [ 0.30,  0.30, -0.60,  0.15],
    [-0.40,  0.05,  0.25, -0.10]]> : tensor<4x4xf32>
  %y = ternary.linear %h, %w2
         : (tensor<1x4xf32>, tensor<4x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
