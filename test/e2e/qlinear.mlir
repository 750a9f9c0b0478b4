// The reference semantics of permute + qlinear (ternary codes, block 2, f32
// scale and offset, bias), executed: W[n, k] = s[n, k/2]·T[n, k] + μ[n, k/2].
// RUN: terminator-opt %s --terminator-reference-to-llvm | %mlir_runner -e entry -entry-point-result=void %runner_libs | FileCheck %s

// x = [1, 2, 3, 4] permuted by [3, 2, 1, 0] is [4, 3, 2, 1].
// W = [[2.1, -1.9, 0.2, 3.2], [0, 0.5, 0, -2]], b = [1, 2]:
// y = [8.4 - 5.7 + 0.4 + 3.2 + 1, 1.5 - 2 + 2] = [7.3, 1.5].
// CHECK: {{\[\[}}7.3, 1.5]]
func.func @entry() {
  %x = arith.constant dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>
  %c = ternary.weight dense<[[1, -1, 0, 1], [0, 1, 1, -1]]> : tensor<2x4xi8>
  %s = ternary.weight dense<[[2.0, 3.0], [0.5, 1.0]]> : tensor<2x2xf32>
  %m = ternary.weight dense<[[0.1, 0.2], [0.0, -1.0]]> : tensor<2x2xf32>
  %b = ternary.weight dense<[1.0, 2.0]> : tensor<2xf32>
  %p = ternary.permute %x [3, 2, 1, 0] : tensor<1x4xf32>
  %y = ternary.qlinear %p, %c scales %s offsets %m bias %b
         encoding(#ternary.ternary<block = 2, offset = true>)
         : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %u = tensor.cast %y : tensor<1x2xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}
func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}
