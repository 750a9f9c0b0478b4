//===- KernelTable.h - the kernels terminator-bench runs --------*- C++ -*-===//
//
// Part of TerMinator. One entry per kernel that terminator-kernelgen emitted;
// each generated table ends with an entry whose `isa` is null.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_BENCH_KERNELS_KERNELTABLE_H
#define TERMINATOR_BENCH_KERNELS_KERNELTABLE_H

#include "terminator/runtime.h"

struct trt_bench_kernel {
  const char *isa;              // "avx512-vnni", "avx2", "neon-dotprod"
  const char *features;         // CPU features it needs, e.g. "avx2"
  const char *set;              // "check" or "bench"
  int64_t m, n, k, group, bits; // bits: 2 ternary, 4 int4, 8 int8
  int64_t f16_meta;             // 1: (α, β) stored as f16
  int64_t row_tile;
  trt_rows_fn fn;
};

#endif // TERMINATOR_BENCH_KERNELS_KERNELTABLE_H
