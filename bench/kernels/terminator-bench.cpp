//===- terminator-bench.cpp - check and benchmark the ternary kernels -----===//
//
// Part of TerMinator. Runs the compiler's micro-kernels (emitted for every
// ISA by terminator-kernelgen at build time) on this CPU:
//
//   terminator-bench check     every kernel whose ISA this CPU has, on
//                              awkward shapes, against a scalar reference
//   terminator-bench kernels   GEMV (hot and cold) and GEMM speed, 1 and 2
//                              threads, against the memory-read bandwidth
//                              this program measures in the same run
//
// The packing below is written from the layout in docs/kernels.md, not from
// the ternary-pack pass, so that a disagreement between the documented
// layout and the kernels shows up here.
//
//===----------------------------------------------------------------------===//

#ifdef TERMINATOR_BENCH_DENSE
#include "bench/dense/DenseBench.h"
#endif
#include "bench/kernels/KernelTable.h"
#include "runtime/src/cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

/// The generated kernel tables, best ISA first, null-terminated
/// (kernel-tables.cpp, written by bench/CMakeLists.txt).
extern const trt_bench_kernel *const trt_bench_tables[];

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// A random ternary (or int8) matrix with (α, β) groups, packed, and its
/// activations.
struct Problem {
  int64_t m, n, k, group, bits, kp, groupCols, groups;
  bool f16Meta;
  std::vector<int8_t> t;   // [n, k] in {-1, 0, 1}, or [-127, 127] for int8
  std::vector<float> meta; // [n, groups, 2]: α, β (μ − α, or −128·α)
  std::vector<_Float16> metaH; // meta as the kernel reads it when f16Meta
  std::vector<uint8_t> packed;
  std::vector<float> x; // [m, k]
  std::vector<int8_t> xq;
  std::vector<float> xmeta;

  Problem(const trt_bench_kernel &kern, std::mt19937 &rng)
      : m(kern.m), n(kern.n), k(kern.k), group(kern.group), bits(kern.bits),
        f16Meta(kern.f16_meta != 0) {
    kp = (k + 255) / 256 * 256;
    groupCols = group == 0 ? kp : group;
    groups = (kp + groupCols - 1) / groupCols;
    int qmax = bits == 8 ? 127 : bits == 4 ? 7 : 1;
    std::uniform_int_distribution<int> code(-qmax, qmax);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    t.resize(size_t(n * k));
    for (int8_t &v : t)
      v = int8_t(code(rng));
    meta.assign(size_t(n * groups * 2), 0.0f);
    int64_t realGroups = (k + groupCols - 1) / groupCols;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t g = 0; g < realGroups; ++g) {
        float alpha = 0.5f + 0.5f * std::fabs(u(rng)), mu = 0.1f * u(rng);
        meta[size_t((r * groups + g) * 2)] = alpha;
        if (bits == 8)
          alpha *= 0.01f;
        meta[size_t((r * groups + g) * 2 + 1)] = bits == 8   ? -128.0f * alpha
                                                 : bits == 4 ? -8.0f * alpha
                                                             : mu - alpha;
      }
    if (f16Meta) {
      // The reference uses the rounded values the kernel reads.
      metaH.assign(meta.begin(), meta.end());
      meta.assign(metaH.begin(), metaH.end());
    }
    pack();
    x.resize(size_t(m * k));
    for (float &v : x)
      v = u(rng) * (u(rng) > 0.95f ? 8.0f : 1.0f);
    xq.resize(size_t(m * kp));
    xmeta.resize(size_t(m * (1 + groups)));
    trt_quantize_act(x.data(), m, k, kp, groupCols, xq.data(), xmeta.data());
  }

  /// The meta as the kernel reads it, and its size in bytes.
  const void *metaBytes() const {
    return f16Meta ? static_cast<const void *>(metaH.data()) : meta.data();
  }
  size_t metaSize() const {
    return f16Meta ? metaH.size() * sizeof(_Float16)
                   : meta.size() * sizeof(float);
  }

  /// docs/kernels.md: 2-bit: row n is kp / 256 blocks of 64 bytes; byte j
  /// of block b holds the code (T + 1) of column 256·b + 64·s + j in bits
  /// 2s..2s+1. 4-bit: row n is kp / 256 blocks of 128 bytes; byte
  /// 64·h + j holds Q + 8 of column 256·b + 128·h + j in its low nibble and
  /// of 256·b + 128·h + 64 + j in its high one (8 past K). 8-bit: byte k of
  /// row n is Q + 128 (128 past K).
  void pack() {
    if (bits == 4) {
      packed.assign(size_t(n * kp / 2), 0x88);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c) {
          int64_t b = c / 256, s = (c % 256) / 64, j = c % 64;
          uint8_t &byte =
              packed[size_t(r * kp / 2 + b * 128 + (s / 2) * 64 + j)];
          int shift = 4 * int(s % 2);
          byte = uint8_t((byte & ~(0xF << shift)) |
                         ((t[size_t(r * k + c)] + 8) << shift));
        }
      return;
    }
    if (bits == 8) {
      packed.assign(size_t(n * kp), 128);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          packed[size_t(r * kp + c)] = uint8_t(t[size_t(r * k + c)] + 128);
      return;
    }
    packed.assign(size_t(n * kp / 4), 0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        int64_t b = c / 256, s = (c % 256) / 64, j = c % 64;
        packed[size_t(r * kp / 4 + b * 64 + j)] |=
            uint8_t((t[size_t(r * k + c)] + 1) << (2 * s));
      }
  }

  /// The kernels' arithmetic in double: s·Σ_g (α·Σ c·q + (μ − α)·Σ q).
  double reference(int64_t row, int64_t col) const {
    const int8_t *q = xq.data() + row * kp;
    double acc = 0;
    for (int64_t g = 0; g < groups; ++g) {
      double dot = 0, sum = 0;
      for (int64_t c = g * groupCols; c < std::min(kp, (g + 1) * groupCols);
           ++c) {
        int offset = bits == 8 ? 128 : bits == 4 ? 8 : 1;
        int c3 = c < k ? t[size_t(col * k + c)] + offset
                       : (bits == 8   ? 128
                          : bits == 4 ? 8
                                      : 0);
        dot += double(c3) * q[c];
        sum += q[c];
      }
      acc += meta[size_t((col * groups + g) * 2)] * dot +
             meta[size_t((col * groups + g) * 2 + 1)] * sum;
    }
    return xmeta[size_t(row * (1 + groups))] * acc;
  }

  /// The bound of |y| that the rounding tolerance scales with.
  double magnitude(int64_t row, int64_t col) const {
    const int8_t *q = xq.data() + row * kp;
    double acc = 0;
    for (int64_t c = 0; c < kp; ++c) {
      int64_t g = c / groupCols;
      acc +=
          (std::fabs(meta[size_t((col * groups + g) * 2)]) * (bits == 8   ? 255
                                                              : bits == 4 ? 15
                                                                          : 2) +
           std::fabs(meta[size_t((col * groups + g) * 2 + 1)])) *
          std::abs(q[c]);
    }
    return xmeta[size_t(row * (1 + groups))] * acc;
  }
};

void run(const trt_bench_kernel &kern, const Problem &p, const uint8_t *packed,
         const void *meta, float *y) {
  trt_parallel_rows(kern.fn, packed, meta, p.xq.data(), p.xmeta.data(), y, p.n,
                    kern.row_tile, 1);
}

std::vector<const trt_bench_kernel *> allKernels() {
  std::vector<const trt_bench_kernel *> out;
  for (int i = 0; trt_bench_tables[i]; ++i)
    for (const trt_bench_kernel *k = trt_bench_tables[i]; k->isa; ++k)
      out.push_back(k);
  return out;
}

bool supported(const trt_bench_kernel &k) {
  std::string error;
  return trt::checkCpu(k.features, error);
}

int check() {
  std::mt19937 rng(1234);
  int failed = 0, passed = 0;
  std::vector<std::string> skipped;
  for (const trt_bench_kernel *kern : allKernels()) {
    if (std::string(kern->set) != "check")
      continue;
    if (!supported(*kern)) {
      if (std::find(skipped.begin(), skipped.end(), kern->isa) == skipped.end())
        skipped.push_back(kern->isa);
      continue;
    }
    Problem p(*kern, rng);
    for (int threads : {1, 2}) {
      trt_set_num_threads(threads);
      std::vector<float> y(size_t(p.m * p.n), NAN);
      run(*kern, p, p.packed.data(), p.metaBytes(), y.data());
      double worst = 0;
      for (int64_t r = 0; r < p.m; ++r)
        for (int64_t c = 0; c < p.n; ++c) {
          double want = p.reference(r, c);
          double err = std::fabs(double(y[size_t(r * p.n + c)]) - want) /
                       (p.magnitude(r, c) + 1e-30);
          if (!(err <= 1e-5))
            err = std::isnan(err) ? INFINITY : err;
          worst = std::max(worst, err);
        }
      bool ok = worst <= 1e-5;
      std::printf("%s %-12s m=%-3lld n=%-3lld k=%-4lld group=%-4lld "
                  "bits=%lld meta=%s threads=%d  max error %.2e of the "
                  "magnitude\n",
                  ok ? "PASS" : "FAIL", kern->isa, (long long)p.m,
                  (long long)p.n, (long long)p.k, (long long)p.group,
                  (long long)p.bits, p.f16Meta ? "f16" : "f32", threads, worst);
      (ok ? passed : failed)++;
    }
  }
  trt_set_num_threads(1);
  for (const std::string &isa : skipped)
    std::printf("SKIP %s: this CPU lacks its features\n", isa.c_str());
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}

/// Read-only sum over `words` of `data` with `threads` threads, GB/s; with
/// `prefetch`, each thread also prefetches 8 KiB ahead as the kernels do.
double readBandwidth(const uint64_t *data, size_t words, int threads,
                     bool prefetch) {
  std::vector<uint64_t> sums(size_t(threads) * 8, 0);
  auto part = [&](int i) {
    size_t begin = words * size_t(i) / size_t(threads) / 8 * 8;
    size_t end = words * size_t(i + 1) / size_t(threads) / 8 * 8;
    uint64_t a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t w = begin; w < end; w += 8) {
      if (prefetch)
        __builtin_prefetch(data + w + 1024, 0, 3);
      for (int j = 0; j < 8; ++j)
        a[j] += data[w + size_t(j)];
    }
    for (int j = 0; j < 8; ++j)
      sums[size_t(i) * 8] += a[j];
  };
  Clock::time_point t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i)
    pool.emplace_back(part, i);
  part(0);
  for (std::thread &t : pool)
    t.join();
  double s = seconds(t0, Clock::now());
  volatile uint64_t sink = 0;
  for (uint64_t v : sums)
    sink = sink + v;
  return double(words) * 8 / s / 1e9;
}

struct Timing {
  double gbps = 0, gops = 0;
};

/// Best of `rounds` batches of `calls` kernel calls; copy `i % copies` of the
/// packed weights and meta in `pool` is used for call i.
Timing timeKernel(const trt_bench_kernel &kern, const Problem &p,
                  const uint8_t *pool, size_t copyBytes, size_t copies,
                  int calls, int rounds) {
  size_t packedBytes = p.packed.size();
  std::vector<float> y(size_t(p.m * p.n));
  double best = INFINITY;
  size_t next = 0;
  for (int r = 0; r < rounds; ++r) {
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < calls; ++i) {
      const uint8_t *base = pool + (next++ % copies) * copyBytes;
      run(kern, p, base, base + packedBytes, y.data());
    }
    best = std::min(best, seconds(t0, Clock::now()) / calls);
  }
  Timing t;
  t.gbps = double(copyBytes) / best / 1e9;
  t.gops = 2.0 * double(p.m) * double(p.n) * double(p.k) / best / 1e9;
  return t;
}

#if defined(__x86_64__)
/// The `vpdpbusd` throughput of one core: 16 independent accumulator chains,
/// best of 3; GOPS counting 128 operations (64 multiply-adds) each. The
/// ceiling of any VNNI GEMM on this core.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) double vnniPeakGops() {
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    __m512i acc[16];
    for (int i = 0; i < 16; ++i)
      acc[i] = _mm512_set1_epi32(i);
    __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(2);
    const long steps = 20000000;
    Clock::time_point t0 = Clock::now();
    for (long i = 0; i < steps; ++i) {
      for (int j = 0; j < 16; ++j)
        acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
      // Keep the 16 chains in registers and the loop from being folded.
      __asm__ volatile(""
                       : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]),
                         "+v"(acc[4]), "+v"(acc[5]), "+v"(acc[6]),
                         "+v"(acc[7]));
      __asm__ volatile(""
                       : "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]),
                         "+v"(acc[11]), "+v"(acc[12]), "+v"(acc[13]),
                         "+v"(acc[14]), "+v"(acc[15]));
    }
    double s = seconds(t0, Clock::now());
    volatile int sink = 0;
    for (int j = 0; j < 16; ++j)
      sink = sink + _mm512_reduce_add_epi32(acc[j]);
    best = std::max(best, 16.0 * double(steps) * 128 / s / 1e9);
  }
  return best;
}
#endif

int kernels() {
  std::mt19937 rng(99);
  const size_t poolBytes = size_t(768) << 20;
  std::vector<uint64_t> poolWords(poolBytes / 8);
  for (size_t i = 0; i < poolWords.size(); ++i)
    poolWords[i] = i * 0x9E3779B97F4A7C15ull;
  auto *pool = reinterpret_cast<uint8_t *>(poolWords.data());
  // The read limit: the best of 3 read-only sums over the pool, with and
  // without software prefetch, per thread count.
  double bw[3] = {0, 0, 0};
  for (int round = 0; round < 3; ++round)
    for (int threads : {1, 2})
      for (bool prefetch : {false, true})
        bw[threads] = std::max(bw[threads],
                               readBandwidth(poolWords.data(), poolWords.size(),
                                             threads, prefetch));
  std::printf("memory read bandwidth (read-only sum over %zu MiB, with and "
              "without prefetch, best of 3): %.1f GB/s with 1 thread, %.1f "
              "GB/s with 2\n",
              poolBytes >> 20, bw[1], bw[2]);
  std::printf("%-12s %-16s %4s %3s %9s %7s %9s %7s %8s\n", "isa", "N x K", "M",
              "thr", "hot GB/s", "ratio", "cold GB/s", "ratio", "GOPS");
  // Summary: per ISA, mean over the three shapes.
  struct Sum {
    double cold[3] = {0, 0, 0}, gops[3] = {0, 0, 0};
    int count[3] = {0, 0, 0}, gemmCount[3] = {0, 0, 0};
  };
  std::vector<std::pair<std::string, Sum>> sums;
  for (const trt_bench_kernel *kern : allKernels()) {
    if (std::string(kern->set) != "bench" || !supported(*kern))
      continue;
    Problem p(*kern, rng);
    size_t copyBytes = (p.packed.size() + p.metaSize() + 4095) / 4096 * 4096;
    size_t copies = std::max<size_t>(1, poolBytes / copyBytes);
    for (size_t c = 0; c < copies; ++c) {
      std::memcpy(pool + c * copyBytes, p.packed.data(), p.packed.size());
      std::memcpy(pool + c * copyBytes + p.packed.size(), p.metaBytes(),
                  p.metaSize());
    }
    auto it = std::find_if(sums.begin(), sums.end(),
                           [&](const auto &s) { return s.first == kern->isa; });
    if (it == sums.end()) {
      sums.push_back({kern->isa, Sum{}});
      it = sums.end() - 1;
    }
    for (int threads : {1, 2}) {
      trt_set_num_threads(threads);
      bool gemv = p.m == 1;
      int hotCalls = gemv ? 2000 : 20;
      Timing hot = timeKernel(*kern, p, pool, copyBytes, 1, hotCalls, 5);
      Timing cold;
      if (gemv)
        cold = timeKernel(*kern, p, pool, copyBytes, copies, int(copies), 3);
      char shape[32];
      std::snprintf(shape, sizeof(shape), "%lldx%lld%s", (long long)p.n,
                    (long long)p.k,
                    p.bits == 4   ? " int4"
                    : p.bits == 8 ? " int8"
                                  : "");
      // The summary is of the ternary kernels; int4/int8 rows stand apart.
      bool ternary = p.bits == 2;
      if (gemv) {
        std::printf("%-12s %-16s %4lld %3d %9.1f %7.2f %9.1f %7.2f %8.1f\n",
                    kern->isa, shape, (long long)p.m, threads, hot.gbps,
                    hot.gbps / bw[threads], cold.gbps, cold.gbps / bw[threads],
                    hot.gops);
        if (ternary) {
          it->second.cold[threads] += cold.gbps / bw[threads];
          it->second.count[threads]++;
        }
      } else {
        std::printf("%-12s %-16s %4lld %3d %9s %7s %9s %7s %8.1f\n", kern->isa,
                    shape, (long long)p.m, threads, "-", "-", "-", "-",
                    hot.gops);
        if (ternary) {
          it->second.gops[threads] += hot.gops / threads;
          it->second.gemmCount[threads]++;
        }
      }
      std::fflush(stdout);
    }
  }
  trt_set_num_threads(1);
  if (sums.empty()) {
    std::printf("no kernel ISA of this build runs on this CPU\n");
    return 1;
  }
  // The headline: the best ISA this CPU runs (the first table is the best).
  const Sum &best = sums.front().second;
  auto mean = [](double total, int n) { return n ? total / n : 0.0; };
  std::string isa = sums.front().first;
  std::replace(isa.begin(), isa.end(), '-', '_');
  double gemm = std::max(mean(best.gops[1], best.gemmCount[1]),
                         mean(best.gops[2], best.gemmCount[2]));
#if defined(__x86_64__)
  if (isa == "avx512_vnni") {
    double peak = vnniPeakGops();
    std::printf("vpdpbusd peak of one core (16 independent chains, best of "
                "3): %.0f GOPS; the GEMM reaches %.2f of it\n",
                peak, gemm / peak);
  }
#endif
  std::printf("isa=%s cold_gemv_1t=%.2f cold_gemv_2t=%.2f "
              "gemm_%s_gops_per_core=%.0f\n",
              isa.c_str(), mean(best.cold[1], best.count[1]),
              mean(best.cold[2], best.count[2]), isa.c_str(), gemm);
  return 0;
}

int usage(const char *prog, int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: %s check | kernels | dense\n"
               "  check    run every kernel this CPU supports on awkward "
               "shapes against a scalar reference\n"
               "  kernels  GEMV/GEMM speed and the ratio to the memory-read "
               "bandwidth measured in the same run\n"
               "  dense    the dense operators (RMSNorm, softmax, SwiGLU): "
               "the MLIR path against Halide (x86-64 builds)\n",
               prog);
  return rc;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2)
    return usage(argv[0], 2);
  std::string cmd = argv[1];
  if (cmd == "check")
    return check();
  if (cmd == "kernels")
    return kernels();
  if (cmd == "dense") {
#ifdef TERMINATOR_BENCH_DENSE
    return runDenseBench();
#else
    std::fprintf(stderr,
                 "%s: error: this build has no dense operators to "
                 "time (the x86-64 build has them)\n",
                 argv[0]);
    return 2;
#endif
  }
  if (cmd == "--help" || cmd == "-h")
    return usage(argv[0], 0);
  std::fprintf(stderr, "%s: error: unknown command '%s'\n", argv[0],
               cmd.c_str());
  return usage(argv[0], 2);
}
