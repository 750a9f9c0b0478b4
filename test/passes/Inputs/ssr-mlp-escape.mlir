// Used by ssr-reorder.test: ssr-mlp.mlir, but @mlp2 also returns the
// hidden activation h, so that the down projection's permutation cannot be
// folded into @mlp2's gate and up; it is then folded nowhere, since both
// functions share the weights. @entry prints mlp2(mlp(x)) for a fixed x.
#id = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
module attributes {ternary.archive = "mlp.tpar"} {
  func.func @mlp(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %g = ternary.weight #ternary.param<"gate"> : tensor<6x8xf32>
    %u = ternary.weight #ternary.param<"up"> : tensor<6x8xf32>
    %d = ternary.weight #ternary.param<"down"> : tensor<8x6xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %a = ternary.linear %x, %g : (tensor<1x8xf32>, tensor<6x8xf32>) -> tensor<1x6xf32>
    %b = ternary.linear %x, %u : (tensor<1x8xf32>, tensor<6x8xf32>) -> tensor<1x6xf32>
    %e0 = tensor.empty() : tensor<1x6xf32>
    // sigmoid(a) with a broadcast scalar operand, then a * sigmoid(a) * b.
    %s = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %one : tensor<1x6xf32>, tensor<f32>) outs(%e0 : tensor<1x6xf32>) {
    ^bb0(%in: f32, %c1: f32, %out: f32):
      %n = arith.negf %in : f32
      %x0 = math.exp %n : f32
      %den = arith.addf %c1, %x0 : f32
      %r = arith.divf %c1, %den : f32
      linalg.yield %r : f32
    } -> tensor<1x6xf32>
    %e1 = tensor.empty() : tensor<1x6xf32>
    %h = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %s, %b : tensor<1x6xf32>, tensor<1x6xf32>, tensor<1x6xf32>) outs(%e1 : tensor<1x6xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %out: f32):
      %m0 = arith.mulf %i0, %i1 : f32
      %m1 = arith.mulf %m0, %i2 : f32
      linalg.yield %m1 : f32
    } -> tensor<1x6xf32>
    %y = ternary.linear %h, %d : (tensor<1x6xf32>, tensor<8x6xf32>) -> tensor<1x8xf32>
    return %y : tensor<1x8xf32>
  }
  func.func @mlp2(%x: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x6xf32>) {
    %g = ternary.weight #ternary.param<"gate"> : tensor<6x8xf32>
    %u = ternary.weight #ternary.param<"up"> : tensor<6x8xf32>
    %d = ternary.weight #ternary.param<"down"> : tensor<8x6xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %a = ternary.linear %x, %g : (tensor<1x8xf32>, tensor<6x8xf32>) -> tensor<1x6xf32>
    %b = ternary.linear %x, %u : (tensor<1x8xf32>, tensor<6x8xf32>) -> tensor<1x6xf32>
    %e0 = tensor.empty() : tensor<1x6xf32>
    // sigmoid(a) with a broadcast scalar operand, then a * sigmoid(a) * b.
    %s = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %one : tensor<1x6xf32>, tensor<f32>) outs(%e0 : tensor<1x6xf32>) {
    ^bb0(%in: f32, %c1: f32, %out: f32):
      %n = arith.negf %in : f32
      %x0 = math.exp %n : f32
      %den = arith.addf %c1, %x0 : f32
      %r = arith.divf %c1, %den : f32
      linalg.yield %r : f32
    } -> tensor<1x6xf32>
    %e1 = tensor.empty() : tensor<1x6xf32>
    %h = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%a, %s, %b : tensor<1x6xf32>, tensor<1x6xf32>, tensor<1x6xf32>) outs(%e1 : tensor<1x6xf32>) {
    ^bb0(%i0: f32, %i1: f32, %i2: f32, %out: f32):
      %m0 = arith.mulf %i0, %i1 : f32
      %m1 = arith.mulf %m0, %i2 : f32
      linalg.yield %m1 : f32
    } -> tensor<1x6xf32>
    %y = ternary.linear %h, %d : (tensor<1x6xf32>, tensor<8x6xf32>) -> tensor<1x8xf32>
    return %y, %h : tensor<1x8xf32>, tensor<1x6xf32>
  }
  func.func @entry() {
    %x = arith.constant dense<[[0.5, -1.0, 2.0, 0.25, -0.75, 1.5, -2.0, 1.0]]> : tensor<1x8xf32>
    %y = call @mlp(%x) : (tensor<1x8xf32>) -> tensor<1x8xf32>
    %z, %h = call @mlp2(%y) : (tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x6xf32>)
    %p = tensor.cast %z : tensor<1x8xf32> to tensor<*xf32>
    call @printMemrefF32(%p) : (tensor<*xf32>) -> ()
    return
  }
  func.func private @printMemrefF32(tensor<*xf32>) attributes {llvm.emit_c_interface}
}
