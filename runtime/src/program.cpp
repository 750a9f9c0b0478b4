//===- program.cpp - the command line of compiled programs ----------------===//
//
// Part of TerMinator. `trt_program_main` is the `main` of every program
// terminator-compile emits: it maps the weight archive, checks it against
// the compiled model's description and the CPU, and runs
//
//   NAME generate [--prompt TEXT] [-n N] [--temp T] [--top-p P] [--seed S]
//   NAME perplexity FILE
//   NAME bench [--prompt-tokens N] [--decode-tokens N] [--runs R]
//   NAME logits (--prompt TEXT | --ids ID,...) [--decode]
//   NAME calibrate TEXT -o STATS [--samples N] [--seq-len L] [--seed S]
//                  [--layers NAMES] [--teacher PROGRAM | --emit-inputs -]
//
// The model runs through its compiled functions: prefill functions of a
// few fixed prompt lengths (a prompt is padded to the next one; causal
// attention makes the padding invisible to the real tokens) and decode
// steps that write the new key and value into an in-place KV cache of a
// few lengths (the shortest that holds the sequence runs; a key mask hides
// the empty slots), or one step that copies a cache of context - 1 slots
// (docs/compile.md).
//
//===----------------------------------------------------------------------===//

#include "terminator/runtime.h"

#include "calibrate.h"
#include "cpu.h"
#include "sampler.h"
#include "tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

extern char **environ;

namespace {

//===----------------------------------------------------------------------===//
// Buffers and memref descriptors
//===----------------------------------------------------------------------===//

/// A 64-byte aligned, zeroed buffer.
class Buffer {
public:
  Buffer() = default;
  explicit Buffer(size_t bytes) : bytes(bytes) {
    size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
    data = std::aligned_alloc(64, rounded);
    if (data)
      std::memset(data, 0, rounded);
  }
  Buffer(Buffer &&o) noexcept : data(o.data), bytes(o.bytes) {
    o.data = nullptr;
  }
  Buffer &operator=(Buffer &&o) noexcept {
    std::swap(data, o.data);
    std::swap(bytes, o.bytes);
    return *this;
  }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { std::free(data); }
  template <typename T> T *as() const { return static_cast<T *>(data); }
  void *data = nullptr;
  size_t bytes = 0;
};

size_t elements(const trt_arg &a) {
  size_t n = 1;
  for (int d = 0; d < a.rank; ++d)
    n *= size_t(a.shape[d]);
  return n;
}

/// An MLIR memref descriptor with identity layout over `data`:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
std::vector<int64_t> descriptor(const trt_arg &a, const void *data) {
  std::vector<int64_t> d(3 + 2 * size_t(a.rank));
  d[0] = d[1] = int64_t(reinterpret_cast<uintptr_t>(data));
  d[2] = 0;
  int64_t stride = 1;
  for (int k = a.rank - 1; k >= 0; --k) {
    d[3 + k] = a.shape[k];
    d[3 + a.rank + k] = stride;
    stride *= a.shape[k];
  }
  return d;
}

//===----------------------------------------------------------------------===//
// Compiled functions and the KV cache
//===----------------------------------------------------------------------===//

/// One compiled function with its argument buffers.
struct Function {
  const trt_function *fn = nullptr;
  std::vector<Buffer> owned; // per argument; empty for params and the cache
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> argv;
  /// Decode steps: slots of the cache the function reads (the in-place
  /// cache's P + 1, or a copying step's P), and whether it writes its new
  /// key and value into the cache itself (TRT_ARG_CACHE_SLOT).
  int64_t cacheSlots = 0;
  bool inPlace = false;
  void *buffer(int i) const {
    return reinterpret_cast<void *>(descriptors[i][1]);
  }
  const trt_arg &arg(int i) const { return fn->args[i]; }
  void call() { fn->call(argv.data()); }
};

bool isCacheInput(const trt_arg &a) {
  return a.role == TRT_ARG_PAST_KEY || a.role == TRT_ARG_PAST_VALUE;
}

class Model {
public:
  Model(const trt_model_info *info, trt_archive *archive)
      : info(info), archive(archive) {}

  /// Binds every function's arguments; false with `error` set if the
  /// archive does not match the compiled model.
  bool bind(std::string &error);

  /// Runs tokens[0..n) as a fresh sequence (n <= the longest prefill) and
  /// returns the logits of each position, [n][vocab]. With `keep`, the keys
  /// and values go to the cache, so decode() can continue.
  const float *prefill(const int32_t *tokens, int n, bool keep);
  /// Runs one more token after the cached ones; returns its logits.
  const float *decode(int32_t token);
  /// Tokens in the cache (the position of the next token).
  int cached() const { return position; }
  int longestPrefill() const {
    return prefills.empty() ? 0 : prefills.back().fn->seq_len;
  }
  bool hasDecode() const { return !decodes.empty(); }

private:
  bool bindFunction(Function &f, const trt_function *fn, bool isDecode,
                    std::string &error);
  const float *logitsOf(const Function &f) const;
  /// Copies `count` slots of f's present keys and values, from slot `from`,
  /// into cache slots `to`...
  void storePresent(const Function &f, int64_t from, int64_t to, int64_t count);
  /// The decode step for the token at `position`: the in-place step with
  /// the fewest cache slots that holds it, or the copying step.
  Function *decodeFor(int64_t position);
  /// Lays the cache out for `slots` slots per head, keeping the first
  /// `position` slots of each head.
  void relayout(int64_t slots);

  const trt_model_info *info;
  trt_archive *archive;
  std::vector<Function> prefills; // by increasing seq_len
  /// Decode steps by increasing cache slots: in-place steps of a few cache
  /// lengths (attention reads only the slots of the shortest that holds the
  /// sequence), or one step that copies its cache.
  std::vector<Function> decodes;
  /// Per layer: keys and values, [1, kv heads, layoutSlots, head dim] in
  /// buffers of the largest decode step's cache.
  std::vector<Buffer> cacheKeys, cacheValues;
  int64_t kvHeads = 0, headDim = 0, layoutSlots = 0;
  int position = 0;
  /// Without a decode function: the sequence so far, rerun every step.
  std::vector<int32_t> history;
};

bool Model::bindFunction(Function &f, const trt_function *fn, bool isDecode,
                         std::string &error) {
  f.fn = fn;
  f.owned.resize(size_t(fn->num_args));
  for (int i = 0; i < fn->num_args; ++i) {
    const trt_arg &a = fn->args[i];
    const void *data = nullptr;
    if (a.role == TRT_ARG_PARAM) {
      const trt_entry *e;
      char err[TRT_ERROR_MESSAGE_SIZE];
      if (trt_archive_find(archive, a.name, &e, err, sizeof(err)) != TRT_OK) {
        error = std::string(err) + " (the weights do not belong to this "
                                   "program; use the .tpar file written "
                                   "with it)";
        return false;
      }
      bool same = e->dtype == a.dtype && int(e->rank) == a.rank;
      for (int d = 0; same && d < a.rank; ++d)
        same = int64_t(e->dims[d]) == a.shape[d];
      if (!same) {
        error = std::string("archive entry '") + a.name +
                "' has another type or shape than the program was compiled "
                "for; use the .tpar file written with this program";
        return false;
      }
      data = e->data;
    } else if (isDecode && isCacheInput(a)) {
      // Every decode step shares one cache per layer, allocated by bind()
      // for the largest.
      auto &cache = a.role == TRT_ARG_PAST_KEY ? cacheKeys : cacheValues;
      if (a.layer < 0 || a.layer >= int(cache.size()) ||
          cache[a.layer].bytes < elements(a) * sizeof(float)) {
        error = "internal: no cache for layer " + std::to_string(a.layer);
        return false;
      }
      data = cache[a.layer].data;
    } else {
      size_t bytes = elements(a) * trt_dtype_size(trt_dtype(a.dtype));
      f.owned[i] = Buffer(bytes);
      if (!f.owned[i].data) {
        error = "out of memory";
        return false;
      }
      data = f.owned[i].data;
    }
    f.descriptors.push_back(descriptor(a, data));
  }
  for (auto &d : f.descriptors)
    f.argv.push_back(d.data());
  return true;
}

bool Model::bind(std::string &error) {
  std::vector<const trt_function *> decodeFns;
  for (int i = 0; i < info->num_functions; ++i) {
    const trt_function *fn = &info->functions[i];
    if (fn->past_len == 0) {
      prefills.emplace_back();
      if (!bindFunction(prefills.back(), fn, false, error))
        return false;
    } else if (fn->seq_len == 1) {
      decodeFns.push_back(fn);
    }
  }
  std::sort(prefills.begin(), prefills.end(),
            [](const Function &a, const Function &b) {
              return a.fn->seq_len < b.fn->seq_len;
            });
  if (prefills.empty()) {
    error = "the program has no prefill function";
    return false;
  }
  // One cache per layer, as large as the largest decode step's.
  std::vector<size_t> keyElements, valueElements;
  for (const trt_function *fn : decodeFns)
    for (int i = 0; i < fn->num_args; ++i) {
      const trt_arg &a = fn->args[i];
      if (!isCacheInput(a) || a.layer < 0)
        continue;
      if (a.rank != 4) {
        error = "internal: cache argument of rank " + std::to_string(a.rank);
        return false;
      }
      kvHeads = a.shape[1];
      headDim = a.shape[3];
      auto &sizes = a.role == TRT_ARG_PAST_KEY ? keyElements : valueElements;
      if (size_t(a.layer) >= sizes.size())
        sizes.resize(size_t(a.layer) + 1, 0);
      sizes[a.layer] = std::max(sizes[a.layer], elements(a));
    }
  for (auto [sizes, caches] : {std::make_pair(&keyElements, &cacheKeys),
                               std::make_pair(&valueElements, &cacheValues)}) {
    caches->resize(sizes->size());
    for (size_t layer = 0; layer < sizes->size(); ++layer) {
      (*caches)[layer] = Buffer((*sizes)[layer] * sizeof(float));
      if ((*sizes)[layer] && !(*caches)[layer].data) {
        error = "out of memory for the KV cache";
        return false;
      }
    }
  }
  for (const trt_function *fn : decodeFns) {
    Function f;
    if (!bindFunction(f, fn, true, error))
      return false;
    for (int i = 0; i < fn->num_args; ++i)
      f.inPlace |= fn->args[i].role == TRT_ARG_CACHE_SLOT;
    f.cacheSlots = fn->past_len + (f.inPlace ? fn->seq_len : 0);
    decodes.push_back(std::move(f));
  }
  std::sort(decodes.begin(), decodes.end(),
            [](const Function &a, const Function &b) {
              return a.cacheSlots < b.cacheSlots;
            });
  // Steps that copy their cache keep only the longest (one layout).
  if (std::any_of(decodes.begin(), decodes.end(),
                  [](const Function &f) { return !f.inPlace; }))
    decodes.erase(decodes.begin(), decodes.end() - 1);
  return true;
}

const float *Model::logitsOf(const Function &f) const {
  for (int i = 0; i < f.fn->num_args; ++i)
    if (f.arg(i).role == TRT_ARG_LOGITS)
      return static_cast<const float *>(f.buffer(i));
  return nullptr;
}

void Model::storePresent(const Function &f, int64_t from, int64_t to,
                         int64_t count) {
  for (int i = 0; i < f.fn->num_args; ++i) {
    const trt_arg &a = f.arg(i);
    if (a.role != TRT_ARG_PRESENT_KEY && a.role != TRT_ARG_PRESENT_VALUE)
      continue;
    auto &cache = a.role == TRT_ARG_PRESENT_KEY ? cacheKeys : cacheValues;
    int64_t total = a.shape[2]; // P + S slots of this present output
    const float *src = static_cast<const float *>(f.buffer(i));
    float *dst = cache[a.layer].as<float>();
    for (int64_t h = 0; h < kvHeads; ++h)
      std::memcpy(dst + (h * layoutSlots + to) * headDim,
                  src + (h * total + from) * headDim,
                  size_t(count * headDim) * sizeof(float));
  }
}

Function *Model::decodeFor(int64_t pos) {
  for (Function &f : decodes)
    if (!f.inPlace || f.cacheSlots > pos)
      return &f;
  return nullptr;
}

void Model::relayout(int64_t slots) {
  // Growing, heads move to higher offsets, the last first; shrinking, to
  // lower ones, the first first: a move never overwrites a head that has
  // not moved yet.
  bool grow = slots > layoutSlots;
  for (auto *caches : {&cacheKeys, &cacheValues})
    for (Buffer &b : *caches) {
      float *base = b.as<float>();
      if (!base)
        continue;
      for (int64_t k = 1; k < kvHeads; ++k) {
        int64_t h = grow ? kvHeads - k : k;
        std::memmove(base + h * slots * headDim,
                     base + h * layoutSlots * headDim,
                     size_t(position * headDim) * sizeof(float));
      }
    }
  layoutSlots = slots;
}

const float *Model::prefill(const int32_t *tokens, int n, bool keep) {
  auto it = std::find_if(prefills.begin(), prefills.end(),
                         [&](const Function &f) { return f.fn->seq_len >= n; });
  if (it == prefills.end() || n < 1)
    return nullptr;
  Function &f = *it;
  int64_t s = f.fn->seq_len;
  for (int i = 0; i < f.fn->num_args; ++i) {
    const trt_arg &a = f.arg(i);
    if (a.role == TRT_ARG_INPUT_IDS) {
      auto *ids = static_cast<int64_t *>(f.buffer(i));
      for (int64_t k = 0; k < s; ++k)
        ids[k] = k < n ? tokens[k] : 0; // padding after the real tokens
    } else if (a.role == TRT_ARG_POSITION_IDS) {
      auto *pos = static_cast<int64_t *>(f.buffer(i));
      for (int64_t k = 0; k < s; ++k)
        pos[k] = k;
    } else if (a.role == TRT_ARG_ATTENTION_MASK) {
      std::fill_n(static_cast<int64_t *>(f.buffer(i)), elements(a), 1);
    }
  }
  f.call();
  if (keep) {
    // Present keys/values [1, kv, s, hd] -> cache slots 0..n-1, laid out
    // for the decode step of the next token.
    if (Function *next = hasDecode() ? decodeFor(n) : nullptr) {
      layoutSlots = next->cacheSlots;
      storePresent(f, 0, 0, std::min<int64_t>(n, layoutSlots));
    }
    history.assign(tokens, tokens + n);
    position = n;
  }
  return logitsOf(f);
}

const float *Model::decode(int32_t token) {
  if (!hasDecode()) {
    // No KV cache in the model: run the whole sequence again.
    history.push_back(token);
    std::vector<int32_t> seq = history;
    const float *logits = prefill(seq.data(), int(seq.size()), true);
    return logits ? logits + (seq.size() - 1) * size_t(info->vocab_size)
                  : nullptr;
  }
  Function *step = decodeFor(position);
  if (!step || position > step->cacheSlots)
    return nullptr; // the context is full
  Function &f = *step;
  if (f.cacheSlots != layoutSlots)
    relayout(f.cacheSlots);
  // The new token's key and value go to slot `position` (in place), or to
  // the copying step's present slot P, after the P cached ones.
  int64_t slots = f.cacheSlots;
  int64_t newSlot = f.inPlace ? position : slots;
  for (int i = 0; i < f.fn->num_args; ++i) {
    const trt_arg &a = f.arg(i);
    if (a.role == TRT_ARG_INPUT_IDS) {
      *static_cast<int64_t *>(f.buffer(i)) = token;
    } else if (a.role == TRT_ARG_POSITION_IDS) {
      *static_cast<int64_t *>(f.buffer(i)) = position;
    } else if (a.role == TRT_ARG_CACHE_SLOT) {
      *static_cast<int64_t *>(f.buffer(i)) = position;
    } else if (a.role == TRT_ARG_KEY_MASK) {
      // Slots 0..position-1 hold the past, slot newSlot the new token.
      float *m = static_cast<float *>(f.buffer(i));
      for (int64_t k = 0; k < int64_t(elements(a)); ++k)
        m[k] = (k < position || k == newSlot)
                   ? 0.0f
                   : -std::numeric_limits<float>::infinity();
    } else if (a.role == TRT_ARG_ATTENTION_MASK) {
      auto *m = static_cast<int64_t *>(f.buffer(i));
      for (int64_t k = 0; k < int64_t(elements(a)); ++k)
        m[k] = (k < position || k == newSlot) ? 1 : 0;
    }
  }
  f.call();
  // A copying step leaves the new key/value in slot P of present.
  if (!f.inPlace && position < slots)
    storePresent(f, slots, position, 1);
  ++position;
  return logitsOf(f);
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

struct Options {
  std::string command, prompt, file, weights, output;
  std::string layers, teacher, emitInputs;
  bool layersGiven = false;
  int samples = 128, seqLen = 0;
  std::vector<int32_t> ids;
  int steps = 256, threads = 1, promptTokens = 0, decodeTokens = 128, runs = 3;
  float temperature = 1.0f, topP = 0.9f;
  uint64_t seed = 0;
  bool seedGiven = false, help = false, decodeMode = false;
};

void usage(const trt_model_info *m, const char *prog, const std::string &cmd) {
  if (cmd == "generate") {
    std::printf(
        "usage: %s generate [options]\n\n"
        "Generates text after the prompt (from BOS), streaming it to stdout.\n"
        "  --prompt TEXT   text to continue (default: empty)\n"
        "  -n N            tokens to generate, prompt included (default 256,"
        " at most the context %d)\n"
        "  --temp T        temperature; 0 = greedy (default 1.0)\n"
        "  --top-p P       nucleus sampling threshold (default 0.9)\n"
        "  --seed S        random seed (default: the time)\n",
        prog, m->context_length);
  } else if (cmd == "perplexity") {
    std::printf(
        "usage: %s perplexity FILE\n\n"
        "Scores FILE: each line that is not empty or all spaces is a "
        "document,\n"
        "encoded with BOS; windows of the context length (%d) overlapping by\n"
        "one token, each a fresh context. Prints perplexity, nats/token and\n"
        "the number of tokens scored.\n",
        prog, m->context_length);
  } else if (cmd == "calibrate") {
    std::printf(
        "usage: %s calibrate FILE -o STATS.tpar [--samples N] [--seq-len L]"
        " [--seed S]\n"
        "          [--layers NAME,...] [--teacher PROGRAM | --emit-inputs -]"
        "\n\n"
        "Runs the model on windows of L tokens (default: the context, %d)\n"
        "drawn at random (seed S, default 0) from FILE's documents (each line\n"
        "that is not empty or all spaces, encoded with BOS, concatenated), N\n"
        "of them (default 128), and writes the input statistics of every\n"
        "linear layer (docs/calibration.md). Only calibration programs\n"
        "(made by terminator-compile --calib-text) can.\n"
        "  --layers NAMES     observe only these layers (archive names)\n"
        "  --teacher PROGRAM  also sum X~'X against the inputs PROGRAM (the "
        "f32\n"
        "                     calibration program) sees on the same windows\n"
        "  --emit-inputs -    write the layers' inputs to stdout for a "
        "student\n"
        "                     instead of statistics (no -o)\n",
        prog, m->context_length);
  } else if (cmd == "logits") {
    std::printf(
        "usage: %s logits (--prompt TEXT | --ids ID,ID,...) [--decode]\n\n"
        "Prints the logits of every position of BOS + TEXT, or of the given\n"
        "token ids, one row per position (for checking the program against\n"
        "a reference). With\n"
        "--decode, the first token is a prefill and each later one a decode\n"
        "step through the KV cache.\n",
        prog);
  } else if (cmd == "bench") {
    std::printf(
        "usage: %s bench [options]\n\n"
        "Measures prompt (prefill) and decode speed on synthetic tokens.\n"
        "  --prompt-tokens N  prompt length (default: a quarter of the context,"
        " %d)\n"
        "  --decode-tokens N  tokens decoded after the prompt (default 128)\n"
        "  --runs R           repetitions; the best is reported (default 3)\n",
        prog, m->context_length / 4);
  } else {
    std::printf(
        "usage: %s <command> [options]\n\n"
        "%s, compiled by terminator-compile for %s.\nWeights: %s\n\n"
        "commands:\n"
        "  generate     generate text (--help for options)\n"
        "  perplexity   score a text file\n"
        "  bench        measure prompt and decode tokens/s\n"
        "  logits       print the logits of a prompt (for testing)\n"
        "  calibrate    collect calibration statistics (calibration programs"
        " only)\n\n"
        "options of every command:\n"
        "  --weights FILE  weight archive (default: %s next to the program)\n"
        "  --threads N     threads of the ternary kernels (default 1)\n"
        "  --help          this text, or a command's\n",
        prog, m->model_name, m->target, m->weights_description,
        m->archive_name);
  }
}

int fail(const char *prog, const std::string &message) {
  std::fprintf(stderr, "%s: error: %s\n", prog, message.c_str());
  return 1;
}

/// Parses the command line; returns -1 to go on, else an exit code.
int parse(int argc, char **argv, const trt_model_info *m, Options &o) {
  const char *prog = argv[0];
  if (argc < 2) {
    usage(m, prog, "");
    return 2;
  }
  int i = 1;
  std::string first = argv[1];
  if (first == "--help" || first == "-h") {
    usage(m, prog, "");
    return 0;
  }
  if (first != "generate" && first != "perplexity" && first != "bench" &&
      first != "logits" && first != "calibrate") {
    std::fprintf(stderr,
                 "%s: error: unknown command '%s'; the commands are "
                 "generate, perplexity, bench, logits and calibrate (see %s "
                 "--help)\n",
                 prog, first.c_str(), prog);
    return 2;
  }
  o.command = first;
  ++i;
  auto value = [&](const char *flag) -> const char * {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: error: %s needs a value\n", prog, flag);
      return nullptr;
    }
    return argv[++i];
  };
  auto integer = [&](const char *flag, int &out, int lo) {
    const char *v = value(flag);
    if (!v)
      return false;
    char *end;
    long x = std::strtol(v, &end, 10);
    if (*end || x < lo || x > (1 << 30)) {
      std::fprintf(stderr, "%s: error: %s expects an integer >= %d, got '%s'\n",
                   prog, flag, lo, v);
      return false;
    }
    out = int(x);
    return true;
  };
  auto real = [&](const char *flag, float &out, float lo, float hi) {
    const char *v = value(flag);
    if (!v)
      return false;
    char *end;
    float x = std::strtof(v, &end);
    if (*end || !(x >= lo && x <= hi)) {
      std::fprintf(stderr,
                   "%s: error: %s expects a number in [%g, %g], got '%s'\n",
                   prog, flag, double(lo), double(hi), v);
      return false;
    }
    out = x;
    return true;
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    bool ok = true;
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--weights") {
      const char *v = value("--weights");
      ok = v != nullptr;
      if (v)
        o.weights = v;
    } else if (a == "--threads") {
      ok = integer("--threads", o.threads, 1);
      // Each thread is a worker of the pool; far more than cores only
      // spins, and thousands would fail to start.
      if (ok && o.threads > 256) {
        std::fprintf(stderr,
                     "%s: error: --threads expects at most 256, got %d\n", prog,
                     o.threads);
        ok = false;
      }
    } else if ((o.command == "generate" || o.command == "logits") &&
               a == "--prompt") {
      const char *v = value("--prompt");
      ok = v != nullptr;
      if (v)
        o.prompt = v;
    } else if (o.command == "generate" && (a == "-n" || a == "--steps")) {
      ok = integer("-n", o.steps, 1);
    } else if (o.command == "generate" && a == "--temp") {
      ok = real("--temp", o.temperature, 0.0f, 100.0f);
    } else if (o.command == "generate" && a == "--top-p") {
      ok = real("--top-p", o.topP, 0.0f, 1.0f);
    } else if ((o.command == "generate" || o.command == "calibrate") &&
               a == "--seed") {
      const char *v = value("--seed");
      char *end = nullptr;
      ok = v && (o.seed = std::strtoull(v, &end, 10), *end == 0);
      if (v && !ok)
        std::fprintf(stderr, "%s: error: --seed expects an integer\n", prog);
      o.seedGiven = true;
    } else if (o.command == "logits" && a == "--ids") {
      const char *v = value("--ids");
      ok = v != nullptr;
      for (const char *p = v; ok && *p;) {
        char *end;
        long id = std::strtol(p, &end, 10);
        ok = end != p && id >= 0 && id < m->vocab_size &&
             (*end == 0 || *end == ',');
        o.ids.push_back(int32_t(id));
        p = *end ? end + 1 : end;
      }
      if (v && (!ok || o.ids.empty())) {
        std::fprintf(stderr,
                     "%s: error: --ids expects comma-separated token ids in "
                     "[0, %d), got '%s'\n",
                     prog, m->vocab_size, v);
        ok = false;
      }
    } else if (o.command == "logits" && a == "--decode") {
      o.decodeMode = true;
    } else if (o.command == "bench" && a == "--prompt-tokens") {
      ok = integer("--prompt-tokens", o.promptTokens, 1);
    } else if (o.command == "bench" && a == "--decode-tokens") {
      ok = integer("--decode-tokens", o.decodeTokens, 0);
    } else if (o.command == "bench" && a == "--runs") {
      ok = integer("--runs", o.runs, 1);
    } else if (o.command == "calibrate" && a == "-o") {
      const char *v = value("-o");
      ok = v != nullptr;
      if (v)
        o.output = v;
    } else if (o.command == "calibrate" && a == "--layers") {
      const char *v = value("--layers");
      ok = v != nullptr;
      if (v) {
        o.layers = v;
        o.layersGiven = true;
      }
    } else if (o.command == "calibrate" && a == "--teacher") {
      const char *v = value("--teacher");
      ok = v != nullptr;
      if (v)
        o.teacher = v;
    } else if (o.command == "calibrate" && a == "--emit-inputs") {
      const char *v = value("--emit-inputs");
      ok = v != nullptr;
      if (v && std::string(v) != "-") {
        std::fprintf(stderr,
                     "%s: error: --emit-inputs writes to stdout only; give "
                     "'-', got '%s'\n",
                     prog, v);
        ok = false;
      }
      if (v)
        o.emitInputs = v;
    } else if (o.command == "calibrate" && a == "--samples") {
      ok = integer("--samples", o.samples, 1);
    } else if (o.command == "calibrate" && a == "--seq-len") {
      ok = integer("--seq-len", o.seqLen, 2);
    } else if ((o.command == "perplexity" || o.command == "calibrate") &&
               a[0] != '-' && o.file.empty()) {
      o.file = a;
    } else {
      std::fprintf(stderr,
                   "%s: error: unknown option '%s' for %s (see %s %s "
                   "--help)\n",
                   prog, a.c_str(), o.command.c_str(), prog, o.command.c_str());
      return 2;
    }
    if (!ok)
      return 2;
  }
  if (o.help) {
    usage(m, prog, o.command);
    return 0;
  }
  if (o.command == "calibrate" &&
      (o.file.empty() || (o.output.empty() && o.emitInputs.empty()))) {
    std::fprintf(stderr,
                 "%s: error: calibrate needs a text FILE and -o "
                 "STATS.tpar (see %s calibrate --help)\n",
                 prog, prog);
    return 2;
  }
  if (o.command == "calibrate" && !o.emitInputs.empty() &&
      (!o.output.empty() || !o.teacher.empty())) {
    std::fprintf(stderr,
                 "%s: error: --emit-inputs writes no statistics; it takes "
                 "neither -o nor --teacher\n",
                 prog);
    return 2;
  }
  if (o.command == "perplexity" && o.file.empty()) {
    std::fprintf(stderr,
                 "%s: error: perplexity needs a text FILE (see %s "
                 "perplexity --help)\n",
                 prog, prog);
    return 2;
  }
  return -1;
}

std::string programFolder(const char *argv0) {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  std::string p = n > 0 ? std::string(path, size_t(n)) : std::string(argv0);
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

double seconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// -log softmax(logits)[target], in double.
double nll(const float *logits, int32_t vocab, int32_t target) {
  double m = logits[0];
  for (int32_t k = 1; k < vocab; ++k)
    m = std::max(m, double(logits[k]));
  double sum = 0;
  for (int32_t k = 0; k < vocab; ++k)
    sum += std::exp(double(logits[k]) - m);
  return m + std::log(sum) - double(logits[target]);
}

bool readDocuments(const std::string &path, std::vector<std::string> &docs,
                   std::string &error);

int runGenerate(const Options &o, Model &model, const trt::Tokenizer &tok,
                const trt_model_info *m, const char *prog) {
  std::vector<int32_t> ids = tok.encode(o.prompt, /*bos=*/true);
  int steps = std::min(o.steps, m->context_length);
  if (int(ids.size()) > std::min(steps, model.longestPrefill()))
    return fail(prog, "the prompt has " + std::to_string(ids.size()) +
                          " tokens, more than -n " + std::to_string(steps) +
                          " or the longest compiled prompt (" +
                          std::to_string(model.longestPrefill()) +
                          "); shorten it or raise -n");
  uint64_t seed = o.seedGiven ? o.seed : uint64_t(std::time(nullptr));
  trt::Sampler sampler(m->vocab_size, o.temperature, o.topP, seed);
  std::vector<float> logits(size_t(m->vocab_size));
  const float *row = model.prefill(ids.data(), int(ids.size()), true);
  if (!row)
    return fail(prog, "the prompt does not fit a compiled prefill");
  row += (ids.size() - 1) * size_t(m->vocab_size);
  // The prompt itself, as run.c prints it.
  for (size_t k = 1; k < ids.size(); ++k)
    std::fputs(tok.decode(ids[k - 1], ids[k]).c_str(), stdout);
  std::fflush(stdout);
  int32_t prev = ids.back();
  double t0 = seconds();
  int generated = 0;
  for (int pos = int(ids.size()); pos < steps; ++pos) {
    std::copy(row, row + m->vocab_size, logits.begin());
    int32_t next = sampler.sample(logits.data());
    if (next == m->bos || next == m->eos)
      break; // the sequence delimiters end a story, as in run.c
    std::fputs(tok.decode(prev, next).c_str(), stdout);
    std::fflush(stdout);
    prev = next;
    ++generated;
    if (pos + 1 >= steps)
      break;
    row = model.decode(next);
    if (!row)
      break; // the context is full
  }
  std::printf("\n");
  std::fflush(stdout);
  double dt = seconds() - t0;
  std::fprintf(stderr, "%d tokens in %.2f s (%.1f tokens/s)\n", generated, dt,
               dt > 0 ? generated / dt : 0.0);
  return 0;
}

int runPerplexity(const Options &o, Model &model, const trt::Tokenizer &tok,
                  const trt_model_info *m, const char *prog) {
  std::vector<std::string> docs;
  std::string error;
  if (!readDocuments(o.file, docs, error))
    return fail(prog, error);
  int context = m->context_length;
  double total = 0;
  uint64_t scored = 0;
  double t0 = seconds(), lastReport = t0;
  bool tty = isatty(2);
  for (size_t d = 0; d < docs.size(); ++d) {
    std::vector<int32_t> ids = tok.encode(docs[d], /*bos=*/true);
    for (size_t start = 0; start + 1 < ids.size();) {
      size_t end = std::min(start + size_t(context), ids.size());
      int n = int(end - start - 1); // inputs; each predicts the next token
      const float *logits = model.prefill(ids.data() + start, n, false);
      if (!logits)
        return fail(prog, "internal: no prefill function for " +
                              std::to_string(n) + " tokens");
      for (int k = 0; k < n; ++k)
        total += nll(logits + size_t(k) * size_t(m->vocab_size), m->vocab_size,
                     ids[start + size_t(k) + 1]);
      scored += uint64_t(n);
      start = end - 1;
    }
    double now = seconds();
    if (now - lastReport > (tty ? 1.0 : 30.0) || d + 1 == docs.size()) {
      std::fprintf(stderr,
                   "%s%zu/%zu documents, %llu tokens, %.4f nats/token, "
                   "%.0f s%s",
                   tty ? "\r" : "", d + 1, docs.size(),
                   (unsigned long long)scored, scored ? total / scored : 0.0,
                   now - t0, tty ? "" : "\n");
      lastReport = now;
    }
  }
  if (tty)
    std::fprintf(stderr, "\n");
  if (scored == 0)
    return fail(prog, o.file + " has no document with two or more tokens");
  double nats = total / double(scored);
  std::printf("perplexity %.4f  nats/token %.6f  tokens %llu  documents %zu\n",
              std::exp(nats), nats, (unsigned long long)scored, docs.size());
  return 0;
}

int runLogits(const Options &o, Model &model, const trt::Tokenizer *tok,
              const trt_model_info *m, const char *prog) {
  if (o.ids.empty() && !tok)
    return fail(prog, "this program has no tokenizer (compiled with "
                      "--no-tokenizer); pass token ids with --ids");
  std::vector<int32_t> ids =
      o.ids.empty() ? tok->encode(o.prompt, /*bos=*/true) : o.ids;
  int n = int(ids.size());
  if (n > model.longestPrefill() || n > m->context_length)
    return fail(prog, "the prompt has " + std::to_string(n) +
                          " tokens, more than the longest compiled prompt");
  std::vector<float> rows;
  if (!o.decodeMode) {
    const float *logits = model.prefill(ids.data(), n, false);
    if (!logits)
      return fail(prog, "internal: no prefill function");
    rows.assign(logits, logits + size_t(n) * size_t(m->vocab_size));
  } else {
    const float *logits = model.prefill(ids.data(), 1, true);
    for (int k = 0; logits;) {
      rows.insert(rows.end(), logits, logits + m->vocab_size);
      if (++k == n)
        break;
      logits = model.decode(ids[size_t(k)]);
    }
    if (rows.size() != size_t(n) * size_t(m->vocab_size))
      return fail(prog, "the decode step failed (the context is full)");
  }
  for (int r = 0; r < n; ++r) {
    for (int32_t k = 0; k < m->vocab_size; ++k)
      std::printf(k ? " %.9g" : "%.9g",
                  double(rows[size_t(r) * size_t(m->vocab_size) + size_t(k)]));
    std::printf("\n");
  }
  return 0;
}

/// Reads the documents of a text file (lines not empty or all spaces).
bool readDocuments(const std::string &path, std::vector<std::string> &docs,
                   std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open the text file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  while (std::getline(in, line))
    if (line.find_first_not_of(' ') != std::string::npos)
      docs.push_back(line);
  return true;
}

/// The teacher of asymmetric calibration: `PROGRAM calibrate ...
/// --emit-inputs -` as a child process whose stdout this process reads.
/// The destructor stops it if it still runs (a failed student).
class TeacherProcess {
public:
  ~TeacherProcess() {
    if (in)
      std::fclose(in);
    if (pid > 0) {
      kill(pid, SIGTERM);
      int status;
      waitpid(pid, &status, 0);
    }
  }
  bool start(const std::vector<std::string> &args, std::string &error) {
    int fds[2];
    if (pipe(fds) != 0) {
      error = std::string("cannot make a pipe: ") + std::strerror(errno);
      return false;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<char *> argv;
    for (const std::string &a : args)
      argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr,
                         argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
#ifdef F_SETPIPE_SZ
    // Room for a few layer inputs, so that the teacher runs ahead instead
    // of in lockstep with this process (best effort).
    fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
#endif
    if (rc != 0) {
      close(fds[0]);
      pid = -1;
      error = "cannot run the teacher program " + args[0] + ": " +
              std::strerror(rc);
      return false;
    }
    in = fdopen(fds[0], "rb");
    return in != nullptr;
  }
  /// Closes the pipe and waits; false with `error` unless it exited 0.
  bool finish(std::string &error) {
    bool extra = std::fgetc(in) != EOF;
    std::fclose(in);
    in = nullptr;
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    if (extra) {
      error = "the teacher program sent more layer inputs than this program "
              "observed (is it the f32 program of the same model?)";
      return false;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
      return true;
    error = "the teacher program failed (" +
            (WIFEXITED(status)
                 ? "exit " + std::to_string(WEXITSTATUS(status))
                 : "signal " + std::to_string(WTERMSIG(status))) +
            ")";
    return false;
  }
  FILE *in = nullptr;

private:
  pid_t pid = -1;
};

int runCalibrate(const Options &o, Model &model, const trt::Tokenizer &tok,
                 const trt_model_info *m, const char *prog) {
  if (m->num_calib_layers == 0)
    return fail(prog, "this program does not observe its layers; make a "
                      "calibration program with terminator-compile "
                      "--calib-text (it runs this command itself)");
  int seqLen = o.seqLen ? o.seqLen : model.longestPrefill();
  if (seqLen > model.longestPrefill())
    return fail(prog, "--seq-len " + std::to_string(seqLen) +
                          " exceeds the longest compiled prompt (" +
                          std::to_string(model.longestPrefill()) + ")");
  std::vector<std::string> docs;
  std::string error;
  if (!readDocuments(o.file, docs, error))
    return fail(prog, error);
  std::vector<int32_t> stream;
  for (const std::string &d : docs) {
    std::vector<int32_t> ids = tok.encode(d, /*bos=*/true);
    stream.insert(stream.end(), ids.begin(), ids.end());
  }
  if (stream.size() < 2)
    return fail(prog, o.file + " holds no text to calibrate on");
  int len = int(std::min<size_t>(size_t(seqLen), stream.size()));
  trt::Calibrator calib(m->calib_layers, m->num_calib_layers);
  if (o.layersGiven && !calib.restrictTo(o.layers, error))
    return fail(prog, error);
  const bool emitting = !o.emitInputs.empty();
  TeacherProcess teacher;
  if (emitting) {
    calib.emitTo(stdout, o.samples, len, int64_t(stream.size()));
  } else if (!o.teacher.empty()) {
    std::vector<std::string> args = {o.teacher,
                                     "calibrate",
                                     o.file,
                                     "--samples",
                                     std::to_string(o.samples),
                                     "--seq-len",
                                     std::to_string(len),
                                     "--seed",
                                     std::to_string(o.seed),
                                     "--layers",
                                     calib.observedNames(),
                                     "--emit-inputs",
                                     "-"};
    if (!teacher.start(args, error))
      return fail(prog, error);
    if (!calib.readTeacher(teacher.in, o.samples, len, int64_t(stream.size())))
      return fail(prog, calib.problem);
  }
  trt::Calibrator::setActive(&calib);
  calib.setValidRows(len);
  // xorshift64*, as the sampler, for the window starts.
  uint64_t state = o.seed ? o.seed : 0x9E3779B97F4A7C15ull;
  double t0 = seconds(), last = t0;
  for (int s = 0; s < o.samples; ++s) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t r = (state * 0x2545F4914F6CDD1Dull) >> 32;
    size_t start = size_t(r % (stream.size() - size_t(len) + 1));
    if (!model.prefill(stream.data() + start, len, false))
      return fail(prog, "internal: no prefill function for " +
                            std::to_string(len) + " tokens");
    if (!calib.problem.empty())
      return fail(prog, calib.problem);
    double now = seconds();
    if (!emitting && (now - last > 5.0 || s + 1 == o.samples)) {
      std::fprintf(stderr, "calibration: %d/%d samples of %d tokens, %.0f s\n",
                   s + 1, o.samples, len, now - t0);
      last = now;
    }
  }
  trt::Calibrator::setActive(nullptr);
  if (emitting)
    return std::fflush(stdout) == 0
               ? 0
               : fail(prog, "cannot write the layer inputs to stdout");
  if (!o.teacher.empty() && !teacher.finish(error))
    return fail(prog, error);
  std::string info = "text " + o.file + "\nsamples " +
                     std::to_string(o.samples) + "\nseq_len " +
                     std::to_string(len) + "\nseed " + std::to_string(o.seed) +
                     "\nmodel " + m->model_name + "\n" +
                     (o.teacher.empty() ? "" : "teacher " + o.teacher + "\n");
  if (!calib.write(o.output, info, error))
    return fail(prog, "cannot write " + o.output + ": " + error);
  std::fprintf(stderr, "calibration: %lld tokens per layer -> %s\n",
               (long long)calib.rows(), o.output.c_str());
  return 0;
}

int runBench(const Options &o, Model &model, const trt_model_info *m,
             const char *prog) {
  int promptTokens = o.promptTokens
                         ? o.promptTokens
                         : std::min(model.longestPrefill(),
                                    std::max(1, m->context_length / 4));
  if (promptTokens > model.longestPrefill())
    return fail(prog, "--prompt-tokens " + std::to_string(promptTokens) +
                          " exceeds the longest compiled prompt (" +
                          std::to_string(model.longestPrefill()) + ")");
  int decodeTokens = std::min(o.decodeTokens, m->context_length - promptTokens);
  std::vector<int32_t> ids(static_cast<size_t>(promptTokens));
  for (int k = 0; k < promptTokens; ++k)
    ids[size_t(k)] = k == 0 ? m->bos : 3 + (k * 7919) % (m->vocab_size - 3);
  double bestPrompt = 0, bestDecode = 0;
  for (int r = 0; r < o.runs; ++r) {
    double t0 = seconds();
    model.prefill(ids.data(), promptTokens, true);
    double t1 = seconds();
    for (int k = 0; k < decodeTokens; ++k)
      model.decode(3 + (k * 104729) % (m->vocab_size - 3));
    double t2 = seconds();
    bestPrompt = std::max(bestPrompt, promptTokens / (t1 - t0));
    if (decodeTokens)
      bestDecode = std::max(bestDecode, decodeTokens / (t2 - t1));
  }
  std::printf("model %s (%s)\n", m->model_name, m->weights_description);
  std::printf("prompt: %d tokens, %.1f tokens/s (best of %d)\n", promptTokens,
              bestPrompt, o.runs);
  std::printf("decode: %d tokens, %.1f tokens/s (best of %d)\n", decodeTokens,
              bestDecode, o.runs);
  std::printf("threads %d\n", o.threads);
  return 0;
}

} // namespace

extern "C" int trt_program_main(const trt_model_info *m, int argc,
                                char **argv) {
  const char *prog = argc > 0 ? argv[0] : "program";
  if (!m || m->abi_version != TRT_MODEL_ABI_VERSION)
    return fail(prog, "the program and its runtime library disagree on the "
                      "model ABI version; recompile with terminator-compile");
  Options o;
  int rc = parse(argc, argv, m, o);
  if (rc >= 0)
    return rc;

#if defined(__GLIBC__)
  // The compiled functions allocate and free their temporaries on every
  // call. Keep freed memory in the heap instead of returning large blocks
  // to the kernel each time (mmap/munmap and page faults took a quarter of
  // the run time of `perplexity` without this).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif

  std::string cpuError;
  if (!trt::checkCpu(m->cpu_features, cpuError))
    return fail(prog, cpuError);
  trt_set_num_threads(o.threads);

  std::string weights = o.weights.empty()
                            ? programFolder(prog) + "/" + m->archive_name
                            : o.weights;
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *archive = nullptr;
  if (trt_archive_open(weights.c_str(), 0, &archive, err, sizeof(err)) !=
      TRT_OK)
    return fail(prog, std::string(err) +
                          (o.weights.empty()
                               ? " (the program looks for its weights next to "
                                 "itself; pass --weights FILE otherwise)"
                               : ""));
  std::unique_ptr<trt_archive, void (*)(trt_archive *)> closer(
      archive, trt_archive_close);

  std::unique_ptr<trt::Tokenizer> tok;
  std::string tokError;
  const trt_entry *e = nullptr;
  bool hasTokenizer = std::string(m->tokenizer) != "none";
  if (!hasTokenizer) {
    // Compiled with --no-tokenizer: logits --ids and bench only.
  } else if (std::string(m->tokenizer) == "gpt2") {
    const trt_entry *merges = nullptr;
    if (trt_archive_find(archive, "terminator.tokenizer.vocab", &e, err,
                         sizeof(err)) == TRT_OK &&
        trt_archive_find(archive, "terminator.tokenizer.merges", &merges, err,
                         sizeof(err)) == TRT_OK)
      tok = trt::Tokenizer::fromGpt2(
          std::string(static_cast<const char *>(e->data), e->nbytes),
          std::string(static_cast<const char *>(merges->data), merges->nbytes),
          tokError);
  } else if (trt_archive_find(archive, "terminator.tokenizer", &e, err,
                              sizeof(err)) == TRT_OK) {
    tok = trt::Tokenizer::fromLlama2c(static_cast<const uint8_t *>(e->data),
                                      e->nbytes, m->vocab_size, tokError);
  }
  if (hasTokenizer && !tok)
    return fail(prog, weights + ": no usable tokenizer: " +
                          (tokError.empty() ? std::string(err) : tokError));

  Model model(m, archive);
  std::string bindError;
  if (!model.bind(bindError))
    return fail(prog, weights + ": " + bindError);

  if (o.command == "logits")
    return runLogits(o, model, tok.get(), m, prog);
  if (o.command == "bench")
    return runBench(o, model, m, prog);
  if (!tok)
    return fail(prog, o.command + " needs a tokenizer, and this program was "
                                  "compiled with --no-tokenizer; recompile "
                                  "with --tokenizer FILE");
  if (o.command == "generate")
    return runGenerate(o, model, *tok, m, prog);
  if (o.command == "perplexity")
    return runPerplexity(o, model, *tok, m, prog);
  if (o.command == "calibrate")
    return runCalibrate(o, model, *tok, m, prog);
  return runBench(o, model, m, prog);
}
