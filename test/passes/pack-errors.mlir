// RUN: terminator-opt %s --split-input-file --ternary-pack --verify-diagnostics

func.func @bad_code(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %c = ternary.weight dense<[[0, 1, 2, -1]]> : tensor<1x4xi8>
  %s = ternary.weight dense<1.0> : tensor<1x1xf32>
  // expected-error @+1 {{cannot be packed: code 2 at [0, 2] is not in {-1, 0, 1}}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

// expected-error @+1 {{ternary-pack: weights come from the archive w.tpar; set output-archive=PATH for the packed weights}}
module attributes {ternary.archive = "w.tpar"} {
  func.func @archive(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
    %c = ternary.weight #ternary.param<"w.codes"> : tensor<1x4xi8>
    %s = ternary.weight dense<1.0> : tensor<1x1xf32>
    %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x1xf32>
    return %y : tensor<1x1xf32>
  }
}

// -----

func.func @int8_out_of_range(%x: tensor<1x4xf32>) -> tensor<1x1xf32> {
  %c = ternary.weight dense<[[0, 1, -128, 5]]> : tensor<1x4xi8>
  %s = ternary.weight dense<1.0> : tensor<1x1xf32>
  // expected-error @+1 {{cannot be packed: int8 code -128 at [0, 2] is outside [-127, 127]}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.int<bits = 8>) : (tensor<1x4xf32>, tensor<1x4xi8>, tensor<1x1xf32>) -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}
