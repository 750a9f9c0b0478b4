//===- kernels.cpp - activation quantization and the thread pool ----------===//
//
// Part of TerMinator. What the compiled ternary micro-kernels call: the
// int8 quantization of activations per token and the row-parallel driver
// with its persistent thread pool. The kernels themselves are emitted by
// the compiler per target (lowering/TernaryToKernels).
//
//===----------------------------------------------------------------------===//

#include "terminator/runtime.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

extern "C" void trt_quantize_act(const float *x, int64_t rows, int64_t cols,
                                 int64_t padded_cols, int64_t group_cols,
                                 int8_t *q, float *meta) {
  int64_t groups = (padded_cols + group_cols - 1) / group_cols;
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * cols;
    int8_t *qr = q + r * padded_cols;
    float *mr = meta + r * (1 + groups);
    float amax = 0.0f;
    for (int64_t k = 0; k < cols; ++k)
      amax = std::max(amax, std::fabs(xr[k]));
    float scale = amax / 127.0f;
    float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    mr[0] = scale;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * group_cols;
      int64_t end = std::min(padded_cols, begin + group_cols);
      int32_t sum = 0;
      for (int64_t k = begin; k < end; ++k) {
        int32_t v = k < cols ? int32_t(std::lrintf(xr[k] * inv)) : 0;
        v = std::min(127, std::max(-127, v));
        qr[k] = int8_t(v);
        sum += v;
      }
      mr[1 + g] = float(sum);
    }
  }
}

namespace {

/// A fixed set of worker threads that run one row-parallel job at a time.
/// The caller takes part as thread 0. Workers spin briefly on the job
/// counter before they sleep, so that the many small jobs of a decode step
/// do not pay a wake-up each.
class ThreadPool {
public:
  static ThreadPool &get() {
    // Never destroyed: workers may wait on its condition variable when the
    // process exits, and glibc's pthread_cond_destroy waits for waiters.
    static ThreadPool *pool = new ThreadPool();
    return *pool;
  }

  void setThreads(int32_t n) {
    n = std::max<int32_t>(1, n);
    std::lock_guard<std::mutex> lock(startMutex);
    while (int32_t(workers.size()) + 1 < n) {
      try {
        workers.emplace_back(
            [this, i = int32_t(workers.size()) + 1,
             start = generation.load(std::memory_order_acquire)] {
              run(i, start);
            });
      } catch (const std::system_error &) {
        // The system refused another thread: run with those that started.
        break;
      }
    }
    threads = std::min<int32_t>(n, int32_t(workers.size()) + 1);
  }
  int32_t numThreads() const { return threads; }

  void parallelRows(trt_rows_fn fn, const void *packed, const void *meta,
                    const void *xq, const void *xmeta, float *y, int64_t rows,
                    int64_t align, int64_t minRows) {
    int32_t n = threads;
    if (n > 1 && rows < 2 * std::max<int64_t>(1, minRows))
      n = 1;
    if (n == 1) {
      fn(packed, meta, xq, xmeta, y, 0, rows);
      return;
    }
    align = std::max<int64_t>(1, align);
    int64_t units = (rows + align - 1) / align;
    job = Job{fn, packed, meta, xq, xmeta, y, rows, align, units, n};
    pending.store(n - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(sleepMutex);
      generation.fetch_add(1, std::memory_order_release);
    }
    wake.notify_all();
    runShare(0);
    while (pending.load(std::memory_order_acquire) != 0)
      std::this_thread::yield();
  }

private:
  struct Job {
    trt_rows_fn fn;
    const void *packed, *meta, *xq, *xmeta;
    float *y;
    int64_t rows, align, units;
    int32_t parts;
  };

  void runShare(int32_t part) {
    const Job &j = job;
    if (part >= j.parts)
      return;
    int64_t begin = j.units * part / j.parts * j.align;
    int64_t end = std::min(j.rows, j.units * (part + 1) / j.parts * j.align);
    if (begin < end)
      j.fn(j.packed, j.meta, j.xq, j.xmeta, j.y, begin, end);
  }

  /// Worker `index`; `seen` is the job counter when it was created (a job
  /// may start before the thread does).
  void run(int32_t index, uint64_t seen) {
    for (;;) {
      uint64_t now = seen;
      for (int spin = 0; spin < 20000 && now == seen; ++spin) {
        std::this_thread::yield();
        now = generation.load(std::memory_order_acquire);
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(sleepMutex);
        wake.wait(lock, [&] {
          return generation.load(std::memory_order_acquire) != seen;
        });
        now = generation.load(std::memory_order_acquire);
      }
      seen = now;
      if (index < job.parts) {
        runShare(index);
        pending.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  ThreadPool() = default;

  std::mutex startMutex, sleepMutex;
  std::condition_variable wake;
  std::vector<std::thread> workers; // detached in spirit: never joined
  std::atomic<uint64_t> generation{0};
  std::atomic<int32_t> pending{0};
  std::atomic<int32_t> threads{1};
  Job job{};
};

} // namespace

extern "C" void trt_parallel_rows(trt_rows_fn fn, const void *packed,
                                  const void *meta, const void *xq,
                                  const void *xmeta, float *y, int64_t rows,
                                  int64_t row_align,
                                  int64_t min_rows_per_thread) {
  ThreadPool::get().parallelRows(fn, packed, meta, xq, xmeta, y, rows,
                                 row_align, min_rows_per_thread);
}

extern "C" void trt_set_num_threads(int32_t threads) {
  ThreadPool::get().setThreads(threads);
}

extern "C" int32_t trt_num_threads(void) {
  return ThreadPool::get().numThreads();
}

namespace {
/// An MLIR memref descriptor of rank 2 (identity layout expected).
struct Matrix {
  void *allocated;
  void *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

template <typename T> T *data(const Matrix *m) {
  return static_cast<T *>(m->aligned) + m->offset;
}

/// Per-thread scratch for the quantized activations, grown on demand.
struct Scratch {
  std::vector<int8_t> q;
  std::vector<float> meta;
};
} // namespace

namespace {
/// y[M, N] = x[M, K] · Ŵᵀ through the kernel `fn`, with the activations
/// quantized to int8 per token first; `meta` is passed on as it is.
void ternaryLinear(trt_rows_fn fn, Matrix *x, Matrix *packed, const void *meta,
                   Matrix *y, int64_t padded_cols, int64_t group_cols,
                   int64_t row_align, int64_t min_rows_per_thread) {
  static thread_local Scratch scratch;
  int64_t rows = x->sizes[0], cols = x->sizes[1];
  int64_t groups = (padded_cols + group_cols - 1) / group_cols;
  scratch.q.resize(size_t(rows * padded_cols));
  scratch.meta.resize(size_t(rows * (1 + groups)));
  trt_quantize_act(data<float>(x), rows, cols, padded_cols, group_cols,
                   scratch.q.data(), scratch.meta.data());
  trt_parallel_rows(fn, data<int8_t>(packed), meta, scratch.q.data(),
                    scratch.meta.data(), data<float>(y), y->sizes[1], row_align,
                    min_rows_per_thread);
}
} // namespace

/// Called by compiled programs for every `ternary.packed_linear`
/// (convert-ternary-to-kernels) with f32 meta. `packed` is [N, Kp / 4] and
/// `meta` [N, 2·G]; `x` and `y` are contiguous.
extern "C" void _mlir_ciface_trt_ternary_linear(trt_rows_fn fn, Matrix *x,
                                                Matrix *packed, Matrix *meta,
                                                Matrix *y, int64_t padded_cols,
                                                int64_t group_cols,
                                                int64_t row_align,
                                                int64_t min_rows_per_thread) {
  ternaryLinear(fn, x, packed, data<float>(meta), y, padded_cols, group_cols,
                row_align, min_rows_per_thread);
}

/// The same with f16 meta (`--scale-type f16`); the kernel widens it.
extern "C" void _mlir_ciface_trt_ternary_linear_f16(
    trt_rows_fn fn, Matrix *x, Matrix *packed, Matrix *meta, Matrix *y,
    int64_t padded_cols, int64_t group_cols, int64_t row_align,
    int64_t min_rows_per_thread) {
  ternaryLinear(fn, x, packed, data<uint16_t>(meta), y, padded_cols, group_cols,
                row_align, min_rows_per_thread);
}
