// RUN: terminator-opt %s --split-input-file --verify-diagnostics

// Every verifier message of the ternary dialect, one case each.

// expected-error @+1 {{unknown ternary dialect attribute 'ternary.foo'}}
module attributes {ternary.foo = 1 : i32} {}

// -----

module {
  // expected-error @+1 {{'ternary.archive' may only be set on a builtin.module}}
  func.func @archive_on_func() attributes {ternary.archive = "m.tpar"} { return }
}

// -----

// expected-error @+1 {{'ternary.archive' must be a non-empty string (the path of the parameter archive)}}
module attributes {ternary.archive = ""} {}

// -----

func.func @param_dynamic() {
  // expected-error @+1 {{expects a statically shaped tensor type for archive entry 'w', but got 'tensor<?x4xf32>'}}
  %w = ternary.weight #ternary.param<"w"> : tensor<?x4xf32>
  return
}

// -----

func.func @param_empty() {
  // expected-error @+1 {{expects a non-empty archive entry name}}
  %w = ternary.weight #ternary.param<""> : tensor<4xf32>
  return
}

// -----

func.func @param_long() {
  // expected-error @+1 {{expects an archive entry name of at most 1024 bytes, but got 1025}}
  %w = ternary.weight #ternary.param<"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"> : tensor<4xf32>
  return
}

// -----

func.func @weight_type(%x: tensor<1x4xf32>) {
  // expected-error @+1 {{failed to verify that all of {value, result} have same type}}
  %w = "ternary.weight"() <{value = dense<1.0> : tensor<4xf32>}> : () -> tensor<8xf32>
  return
}

// -----

// expected-error @+1 {{expects block >= 0 (0 means one group per row), but got -1}}
func.func private @ternary_block() attributes {e = #ternary.ternary<block = -1>}

// -----

// expected-error @+1 {{expects scale type f16, bf16 or f32, but got 'f64'}}
func.func private @ternary_scale() attributes {e = #ternary.ternary<scale = f64>}

// -----

// expected-error @+1 {{expects bits = 4 or 8, but got 3}}
func.func private @int_bits() attributes {e = #ternary.int<bits = 3>}

// -----

// expected-error @+1 {{expects group >= 0 (0 means one group per row), but got -32}}
func.func private @int_group() attributes {e = #ternary.int<bits = 4, group = -32>}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse Ternary_TernaryEncodingAttr parameter 'offset' which is to be a `bool`}}
func.func private @ternary_offset() attributes {e = #ternary.ternary<offset = 1>}

// -----

func.func @linear_weight_rank(%x: tensor<1x4xf32>, %w: tensor<4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects a weight of rank 2 [N, K], but got rank 1}}
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @linear_features(%x: tensor<1x5xf32>, %w: tensor<2x4xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects an input with 4 features (the weight's columns) in its last dimension, but got shape [1, 5]}}
  %y = ternary.linear %x, %w : (tensor<1x5xf32>, tensor<2x4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @linear_types(%x: tensor<1x4xf32>, %w: tensor<2x4xf16>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects input, weight and result to share one element type, but got 'f32', 'f16' and 'f32'}}
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf16>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @linear_bias_shape(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>, %b: tensor<3xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects a bias of shape [2], but got [3]}}
  %y = ternary.linear %x, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<3xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @linear_bias_type(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>, %b: tensor<2xf16>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects bias element type 'f32' like the input, but got 'f16'}}
  %y = ternary.linear %x, %w, %b : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2xf16>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @linear_result_rank(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{expects a result of rank 2 like the input, but got rank 1}}
  %y = ternary.linear %x, %w : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}

// -----

func.func @linear_result_tokens(%x: tensor<3x4xf32>, %w: tensor<2x4xf32>) -> tensor<5x2xf32> {
  // expected-error @+1 {{expects a result dimension 0 to be 3 as in the input, but got 5}}
  %y = ternary.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

func.func @linear_result_features(%x: tensor<3x4xf32>, %w: tensor<2x4xf32>) -> tensor<3x7xf32> {
  // expected-error @+1 {{expects a result to have 2 features in its last dimension, but got 7}}
  %y = ternary.linear %x, %w : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x7xf32>
  return %y : tensor<3x7xf32>
}

// -----

func.func @qlinear_codes_rank(%x: tensor<1x4xf32>, %c: tensor<8xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects codes of rank 2 [N, K], but got rank 1}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<8xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_features(%x: tensor<1x3xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects an input with 4 features (the codes' columns) in its last dimension, but got shape [1, 3]}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : (tensor<1x3xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_result_type(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf16> {
  // expected-error @+1 {{expects result element type 'f32' like the input, but got 'f16'}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf16>
  return %y : tensor<1x2xf16>
}

// -----

func.func @qlinear_float_weights(%x: tensor<1x4xf32>, %w: tensor<2x4xf16>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects 'f32' weights for encoding #ternary.float<>, but got element type 'f16'}}
  %y = ternary.qlinear %x, %w encoding(#ternary.float<>) : (tensor<1x4xf32>, tensor<2x4xf16>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_codes_type(%x: tensor<1x4xf32>, %c: tensor<2x4xi32>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects i8 codes for encoding #ternary.int<bits = 8>, but got element type 'i32'}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.int<bits = 8>) : (tensor<1x4xf32>, tensor<2x4xi32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_float_scales(%x: tensor<1x4xf32>, %w: tensor<2x4xf32>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects no scales for encoding #ternary.float<>}}
  %y = ternary.qlinear %x, %w scales %s encoding(#ternary.float<>) : (tensor<1x4xf32>, tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_missing_scales(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>) -> tensor<1x2xf32> {
  // expected-error @+1 {{requires scales for encoding #ternary.ternary<>}}
  %y = ternary.qlinear %x, %c encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<2x4xi8>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_scales_shape(%x: tensor<1x10xf32>, %c: tensor<2x10xi8>, %s: tensor<2x2xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects scales of shape [2, 3], but got [2, 2]}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<block = 4>) : (tensor<1x10xf32>, tensor<2x10xi8>, tensor<2x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_scales_type(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects scales of element type 'f16' as the encoding states, but got 'f32'}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<scale = f16>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_missing_offsets(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{requires offsets for encoding #ternary.ternary<offset = true>}}
  %y = ternary.qlinear %x, %c scales %s encoding(#ternary.ternary<offset = true>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_extra_offsets(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects no offsets for encoding #ternary.int<bits = 8>}}
  %y = ternary.qlinear %x, %c scales %s offsets %s encoding(#ternary.int<bits = 8>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @qlinear_bias(%x: tensor<1x4xf32>, %c: tensor<2x4xi8>, %s: tensor<2x1xf32>, %b: tensor<4xf32>) -> tensor<1x2xf32> {
  // expected-error @+1 {{expects a bias of shape [2], but got [4]}}
  %y = ternary.qlinear %x, %c scales %s bias %b encoding(#ternary.ternary<>) : (tensor<1x4xf32>, tensor<2x4xi8>, tensor<2x1xf32>, tensor<4xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

func.func @permute_dynamic(%x: tensor<1x?xf32>) -> tensor<1x?xf32> {
  // expected-error @+1 {{expects an input with a static last dimension, but got shape [1, ?]}}
  %p = ternary.permute %x [0] : tensor<1x?xf32>
  return %p : tensor<1x?xf32>
}

// -----

func.func @permute_size(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects a permutation of 4 indices (the input's last dimension), but got 3}}
  %p = ternary.permute %x [0, 1, 2] : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

func.func @permute_range(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects permutation indices in [0, 4), but index 2 is 4}}
  %p = ternary.permute %x [0, 1, 4, 3] : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

func.func @permute_twice(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects every index once, but 1 appears twice}}
  %p = ternary.permute %x [0, 1, 1, 3] : tensor<1x4xf32>
  return %p : tensor<1x4xf32>
}

// -----

func.func @sparse_acc_rank(%y: tensor<f32>, %x: tensor<1x8xf32>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<3xf32>) -> tensor<f32> {
  // expected-error @+1 {{expects an accumulator of rank >= 1, but got rank 0}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<f32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<f32>
  return %o : tensor<f32>
}

// -----

func.func @sparse_input_rank(%y: tensor<4xf32>, %x: tensor<f32>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<3xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{expects an input of rank >= 1 with the features last, but got rank 0}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<4xf32>, tensor<f32>, tensor<5xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<4xf32>
  return %o : tensor<4xf32>
}

// -----

func.func @sparse_tokens(%y: tensor<2x4xf32>, %x: tensor<3x8xf32>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{expects an accumulator dimension 0 to be 3 as in the input, but got 2}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<2x4xf32>, tensor<3x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<2x4xf32>
  return %o : tensor<2x4xf32>
}

// -----

func.func @sparse_types(%y: tensor<1x4xf32>, %x: tensor<1x8xf32>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<3xbf16>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects accumulator and input of one element type and values of that type or f16, but got 'f32', 'f32' and 'bf16'}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<3xbf16>) -> tensor<1x4xf32>
  return %o : tensor<1x4xf32>
}

// -----

func.func @sparse_input_type(%y: tensor<1x4xf32>, %x: tensor<1x8xf16>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<3xf16>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects accumulator and input of one element type and values of that type or f16, but got 'f32', 'f16' and 'f16'}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x4xf32>, tensor<1x8xf16>, tensor<5xi32>, tensor<3xi32>, tensor<3xf16>) -> tensor<1x4xf32>
  return %o : tensor<1x4xf32>
}

// -----

func.func @sparse_rows(%y: tensor<1x4xf32>, %x: tensor<1x8xf32>, %r: tensor<4xi32>, %c: tensor<3xi32>, %v: tensor<3xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects row_offsets of shape [5] (N + 1), but got [4]}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<4xi32>, tensor<3xi32>, tensor<3xf32>) -> tensor<1x4xf32>
  return %o : tensor<1x4xf32>
}

// -----

func.func @sparse_cols_rank(%y: tensor<1x4xf32>, %x: tensor<1x8xf32>, %r: tensor<5xi32>, %c: tensor<3x1xi32>, %v: tensor<3xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects col_indices and values of rank 1, but got ranks 2 and 1}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3x1xi32>, tensor<3xf32>) -> tensor<1x4xf32>
  return %o : tensor<1x4xf32>
}

// -----

func.func @sparse_nnz(%y: tensor<1x4xf32>, %x: tensor<1x8xf32>, %r: tensor<5xi32>, %c: tensor<3xi32>, %v: tensor<2xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{expects as many values as col_indices (3), but got 2}}
  %o = ternary.sparse_residual %y, %x, %r, %c, %v : (tensor<1x4xf32>, tensor<1x8xf32>, tensor<5xi32>, tensor<3xi32>, tensor<2xf32>) -> tensor<1x4xf32>
  return %o : tensor<1x4xf32>
}

// -----

func.func @quantize_rank(%x: tensor<f32>) {
  // expected-error @+1 {{expects an input of rank >= 1, but got rank 0}}
  %q, %s = ternary.quantize_act %x : tensor<f32> -> tensor<i8>, tensor<f32>
  return
}

// -----

func.func @quantize_codes(%x: tensor<3x8xf32>) {
  // expected-error @+1 {{expects codes to have 8 features in its last dimension, but got 4}}
  %q, %s = ternary.quantize_act %x : tensor<3x8xf32> -> tensor<3x4xi8>, tensor<3xf32>
  return
}

// -----

func.func @quantize_scale_shape(%x: tensor<3x8xf32>) {
  // expected-error @+1 {{expects a scale of shape [3] (one per token), but got [3, 1]}}
  %q, %s = ternary.quantize_act %x : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3x1xf32>
  return
}

// -----

func.func @quantize_scale_type(%x: tensor<3x8xf32>) {
  // expected-error @+1 {{expects scale element type 'f32' like the input, but got 'f16'}}
  %q, %s = ternary.quantize_act %x : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3xf16>
  return
}

// -----

func.func @packed_group(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects group 0, 64, 128 or a multiple of 256, but got 32}}
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 32 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_bytes(%x: tensor<1x300xf32>, %p: tensor<8x75xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects packed codes of shape [8, 128], but got [8, 75]}}
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x75xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_meta(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x3x2xf32>) {
  // expected-error @+1 {{expects meta of shape [8, 4, 2], but got [8, 3, 2]}}
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 128 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x3x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_input(%x: tensor<1x256xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects an input with 300 features in its last dimension, but got shape [1, 256]}}
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x256xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_int8_bytes(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects packed codes of shape [8, 512], but got [8, 128]}}
  %y = ternary.packed_linear %x, %p, %m {bits = 8 : i64, cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_bits(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects 2-bit (ternary), 4-bit or 8-bit codes, but got 3 bits}}
  %y = ternary.packed_linear %x, %p, %m {bits = 3 : i64, cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_int4_bytes(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xf32>) {
  // expected-error @+1 {{expects packed codes of shape [8, 256], but got [8, 128]}}
  %y = ternary.packed_linear %x, %p, %m {bits = 4 : i64, cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xf32>) -> tensor<1x8xf32>
  return
}

// -----

func.func @packed_bf16_meta(%x: tensor<1x300xf32>, %p: tensor<8x128xi8>, %m: tensor<8x1x2xbf16>) {
  // expected-error @+1 {{operand #2 must be ranked tensor of 32-bit float or 16-bit float values}}
  %y = ternary.packed_linear %x, %p, %m {cols = 300 : i64, group = 0 : i64} : (tensor<1x300xf32>, tensor<8x128xi8>, tensor<8x1x2xbf16>) -> tensor<1x8xf32>
  return
}

// -----

func.func @input_permutation_not_a_permutation(%x: tensor<1x3xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'ternary.input_permutation' must hold every column index in [0, 3) once}}
  %y = ternary.linear %x, %w {ternary.input_permutation = array<i64: 0, 2, 2>} : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  return
}

// -----

func.func @input_permutation_wrong_size(%x: tensor<1x3xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'ternary.input_permutation' has 2 indices for a weight of 3 columns}}
  %y = ternary.linear %x, %w {ternary.input_permutation = array<i64: 1, 0>} : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32>
  return
}

// -----

func.func @input_permutation_elsewhere(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'ternary.input_permutation' must be an array<i64> on a ternary.linear}}
  %p = ternary.permute %x [2, 0, 1] {ternary.input_permutation = array<i64: 2, 0, 1>} : tensor<1x3xf32>
  return
}

// -----

// expected-error @+1 {{'ternary.records' must be an array of archive entry names on a builtin.module}}
module attributes {ternary.records = [1]} {
}
