//===- dense-bench.cpp - terminator-bench dense ---------------------------===//
//
// Part of TerMinator. Times each dense operator two ways on one core: the
// MLIR path (bench/dense/ops.mlir, lowered by terminator-densegen through
// the pipeline programs use) and the Halide one (runtime/halide), at
// TinyLlama-1.1B shapes, checks that they agree, and says which is faster.
//
//===----------------------------------------------------------------------===//

#include "bench/dense/DenseBench.h"
#include "runtime/src/cpu.h"

#include "HalideBuffer.h"
#include "trt_halide_rms_norm.h"
#include "trt_halide_softmax.h"
#include "trt_halide_swiglu.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

/// MLIR's strided memref descriptors of rank 1 and 2 (the C interface of
/// functions marked llvm.emit_c_interface).
struct MemRef1 {
  float *allocated, *aligned;
  int64_t offset, size, stride;
};
struct MemRef2 {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
};
MemRef1 memref(std::vector<float> &v) {
  return {v.data(), v.data(), 0, int64_t(v.size()), 1};
}
MemRef2 memref(std::vector<float> &v, int64_t rows, int64_t cols) {
  return {v.data(), v.data(), 0, {rows, cols}, {cols, 1}};
}
Halide::Runtime::Buffer<float> buffer(std::vector<float> &v, int64_t rows,
                                      int64_t cols) {
  return Halide::Runtime::Buffer<float>(v.data(), int(cols), int(rows));
}

} // namespace

// The MLIR path: bench/dense/ops.mlir, results as the last argument.
extern "C" {
void _mlir_ciface_rms_norm_1(MemRef2 *, MemRef1 *, MemRef2 *);
void _mlir_ciface_rms_norm_128(MemRef2 *, MemRef1 *, MemRef2 *);
void _mlir_ciface_softmax_32(MemRef2 *, MemRef2 *);
void _mlir_ciface_softmax_4096(MemRef2 *, MemRef2 *);
void _mlir_ciface_swiglu_1(MemRef2 *, MemRef2 *, MemRef2 *);
void _mlir_ciface_swiglu_128(MemRef2 *, MemRef2 *, MemRef2 *);
}

namespace {

using Clock = std::chrono::steady_clock;

/// Seconds per call of `f`: the best of 7 rounds of enough calls for about
/// 20 ms each.
double timePerCall(const std::function<void()> &f) {
  f();
  int calls = 1;
  for (;;) {
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < calls; ++i)
      f();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (s > 0.02 || calls > (1 << 24))
      break;
    calls *= 2;
  }
  double best = INFINITY;
  for (int round = 0; round < 7; ++round) {
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < calls; ++i)
      f();
    best = std::min(
        best, std::chrono::duration<double>(Clock::now() - t0).count() / calls);
  }
  return best;
}

std::vector<float> random(size_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(rng);
  return v;
}

struct Result {
  std::string op;
  double mlir, halide, diff;
};

/// max |a − b| / max |a|.
double relativeDiff(const std::vector<float> &a, const std::vector<float> &b) {
  double peak = 0, worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    peak = std::max(peak, double(std::fabs(a[i])));
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
  }
  return peak > 0 ? worst / peak : worst;
}

Result rmsNorm(int64_t rows, void (*mlir)(MemRef2 *, MemRef1 *, MemRef2 *)) {
  const int64_t cols = 2048;
  std::vector<float> x = random(size_t(rows * cols), 1, 1.0f),
                     w = random(size_t(cols), 2, 0.5f), a(x.size()),
                     b(x.size());
  MemRef2 mx = memref(x, rows, cols), ma = memref(a, rows, cols);
  MemRef1 mw = memref(w);
  auto hx = buffer(x, rows, cols), hb = buffer(b, rows, cols);
  Halide::Runtime::Buffer<float> hw(w.data(), int(cols));
  Result r{"rms_norm " + std::to_string(rows) + "x2048", 0, 0, 0};
  r.mlir = timePerCall([&] { mlir(&mx, &mw, &ma); });
  r.halide = timePerCall([&] {
    trt_halide_rms_norm(hx.raw_buffer(), hw.raw_buffer(), 1e-5f,
                        hb.raw_buffer());
  });
  r.diff = relativeDiff(a, b);
  return r;
}

Result softmax(int64_t rows, void (*mlir)(MemRef2 *, MemRef2 *)) {
  const int64_t cols = 1024;
  std::vector<float> x = random(size_t(rows * cols), 3, 4.0f), a(x.size()),
                     b(x.size());
  MemRef2 mx = memref(x, rows, cols), ma = memref(a, rows, cols);
  auto hx = buffer(x, rows, cols), hb = buffer(b, rows, cols);
  Result r{"softmax " + std::to_string(rows) + "x1024", 0, 0, 0};
  r.mlir = timePerCall([&] { mlir(&mx, &ma); });
  r.halide = timePerCall(
      [&] { trt_halide_softmax(hx.raw_buffer(), hb.raw_buffer()); });
  r.diff = relativeDiff(a, b);
  return r;
}

Result swiglu(int64_t rows, void (*mlir)(MemRef2 *, MemRef2 *, MemRef2 *)) {
  const int64_t cols = 5632;
  std::vector<float> x = random(size_t(rows * cols), 4, 3.0f),
                     g = random(size_t(rows * cols), 5, 1.0f), a(x.size()),
                     b(x.size());
  MemRef2 mx = memref(x, rows, cols), mg = memref(g, rows, cols),
          ma = memref(a, rows, cols);
  auto hx = buffer(x, rows, cols), hg = buffer(g, rows, cols),
       hb = buffer(b, rows, cols);
  Result r{"swiglu " + std::to_string(rows) + "x5632", 0, 0, 0};
  r.mlir = timePerCall([&] { mlir(&mx, &mg, &ma); });
  r.halide = timePerCall([&] {
    trt_halide_swiglu(hx.raw_buffer(), hg.raw_buffer(), hb.raw_buffer());
  });
  r.diff = relativeDiff(a, b);
  return r;
}

} // namespace

int runDenseBench() {
  std::string error;
  if (!trt::checkCpu("avx512f,avx512bw,avx512cd,avx512dq,avx512vl", error)) {
    std::fprintf(stderr,
                 "terminator-bench: error: dense: the MLIR path is compiled "
                 "for x86-64-v4: %s\n",
                 error.c_str());
    return 2;
  }
  std::printf("dense operators, one core, best of 7 rounds; MLIR: the "
              "program's lowering (x86-64-v4), Halide 14: AOT, dispatched "
              "on this CPU\n");
  std::vector<Result> results = {rmsNorm(1, _mlir_ciface_rms_norm_1),
                                 rmsNorm(128, _mlir_ciface_rms_norm_128),
                                 softmax(32, _mlir_ciface_softmax_32),
                                 softmax(4096, _mlir_ciface_softmax_4096),
                                 swiglu(1, _mlir_ciface_swiglu_1),
                                 swiglu(128, _mlir_ciface_swiglu_128)};
  int rc = 0;
  std::string summary;
  for (const Result &r : results) {
    std::printf("%-18s mlir %10.2f us  halide %10.2f us  halide speedup "
                "%5.2fx  max diff %.1e of max |y|\n",
                r.op.c_str(), r.mlir * 1e6, r.halide * 1e6, r.mlir / r.halide,
                r.diff);
    if (!(r.diff < 1e-4)) {
      std::fprintf(stderr,
                   "terminator-bench: error: %s: MLIR and Halide "
                   "disagree (%.1e)\n",
                   r.op.c_str(), r.diff);
      rc = 1;
    }
    std::string name =
        r.op.substr(0, r.op.find(' ')) + "_" + r.op.substr(r.op.find(' ') + 1);
    summary +=
        " " + name + "=" + std::to_string(r.mlir / r.halide).substr(0, 4);
  }
  std::printf("halide_speedup%s\n", summary.c_str());
  return rc;
}
