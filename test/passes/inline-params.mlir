// RUN: rm -rf %t && mkdir -p %t
// RUN: terminator-archive create %t/w.tpar w=f32:2x3:iota codes=i8:2x2:1
// RUN: terminator-opt %s --split-input-file --ternary-inline-params=archive=%t/w.tpar | FileCheck %s
// RUN: cd %t && terminator-opt %s --split-input-file --ternary-inline-params | FileCheck %s
// RUN: cd %t && not terminator-opt %s --split-input-file --ternary-inline-params=archive=absent.tpar 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: cd %t && terminator-opt %S/Inputs/inline-params-bad.mlir --split-input-file --ternary-inline-params --verify-diagnostics

// MISSING: error: ternary-inline-params: absent.tpar: cannot open the archive: No such file or directory

// CHECK-NOT: ternary.archive
// CHECK-LABEL: func.func @f
// CHECK: ternary.weight dense_resource<w> : tensor<2x3xf32>
// CHECK: ternary.weight dense_resource<codes> : tensor<2x2xi8>
// iota f32: 0, 1, 2, 3, 4, 5.
// CHECK: w: "0x08000000000000000000803F0000004000004040000080400000A040"
// CHECK: codes: "0x0800000001010101"
module attributes {ternary.archive = "w.tpar"} {
  func.func @f() -> (tensor<2x3xf32>, tensor<2x2xi8>) {
    %w = ternary.weight #ternary.param<"w"> : tensor<2x3xf32>
    %c = ternary.weight #ternary.param<"codes"> : tensor<2x2xi8>
    return %w, %c : tensor<2x3xf32>, tensor<2x2xi8>
  }
}
