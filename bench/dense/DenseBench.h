//===- DenseBench.h - terminator-bench dense --------------------*- C++ -*-===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_BENCH_DENSE_DENSEBENCH_H
#define TERMINATOR_BENCH_DENSE_DENSEBENCH_H

/// Times the dense operators, MLIR path against Halide, and prints one line
/// each and a summary; non-zero when the two disagree.
int runDenseBench();

#endif // TERMINATOR_BENCH_DENSE_DENSEBENCH_H
