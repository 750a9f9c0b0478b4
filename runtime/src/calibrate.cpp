//===- calibrate.cpp - input statistics of linear layers ------------------===//
//
// Part of TerMinator. See calibrate.h.
//
//===----------------------------------------------------------------------===//

#include "calibrate.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace {
trt::Calibrator *active = nullptr;

/// An MLIR memref descriptor of rank 2.
struct Memref2D {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};
} // namespace

/// Called by calibration programs before linear layer `id` runs, with its
/// input flattened to [rows, cols] (see calibrate.h).
extern "C" void _mlir_ciface_trt_calib_observe(int64_t id, Memref2D *x) {
  if (!active || !x)
    return;
  if (x->strides[1] != 1) {
    active->problem = "a layer input is not contiguous";
    return;
  }
  active->observe(id, x->aligned + x->offset, x->sizes[0], x->sizes[1],
                  x->strides[0]);
}

namespace trt {

Calibrator::Calibrator(const trt_calib_layer *layers, int32_t count) {
  stats.resize(size_t(count));
  for (int32_t i = 0; i < count; ++i) {
    Layer &l = stats[size_t(i)];
    l.name = layers[i].name;
    l.cols = layers[i].cols;
    l.sameAs = layers[i].same_as;
    if (l.sameAs >= 0)
      continue; // no statistics of its own
    l.gram.assign(size_t(l.cols * l.cols), 0.0);
    l.sumAbs.assign(size_t(l.cols), 0.0);
    l.maxAbs.assign(size_t(l.cols), 0.0f);
  }
}

void Calibrator::setActive(Calibrator *c) { active = c; }

namespace {
/// The non-empty names of a comma-separated list.
std::vector<std::string> splitNames(const std::string &list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos)
      comma = list.size();
    if (comma > start)
      out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}
} // namespace

bool Calibrator::restrictTo(const std::string &names, std::string &error) {
  for (Layer &l : stats)
    l.active = l.requested = false;
  for (const std::string &name : splitNames(names)) {
    auto it = std::find_if(stats.begin(), stats.end(),
                           [&](const Layer &l) { return l.name == name; });
    if (it == stats.end()) {
      error = "--layers names " + name + ", which this program does not "
              "observe";
      return false;
    }
    it->requested = it->active = true;
    if (it->sameAs >= 0 && it->sameAs < int32_t(stats.size()))
      stats[size_t(it->sameAs)].active = true;
  }
  return true;
}

std::string Calibrator::observedNames() const {
  std::string out;
  for (const Layer &l : stats)
    if (l.requested)
      out += (out.empty() ? "" : ",") + l.name;
  return out;
}

int64_t Calibrator::rows() const {
  int64_t r = 0;
  for (const Layer &l : stats)
    r = std::max(r, l.rows);
  return r;
}

std::string Calibrator::groupNames(int64_t id) const {
  std::string out;
  for (size_t j = 0; j < stats.size(); ++j)
    if (stats[j].requested &&
        (int64_t(j) == id || stats[j].sameAs == int32_t(id)))
      out += (out.empty() ? "" : ",") + stats[j].name;
  return out;
}

namespace {
bool writeAll(FILE *f, const void *data, size_t bytes) {
  return std::fwrite(data, 1, bytes, f) == bytes;
}
bool readAll(FILE *f, void *data, size_t bytes) {
  return std::fread(data, 1, bytes, f) == bytes;
}
} // namespace

void Calibrator::emitTo(FILE *out, int64_t samples, int64_t seqLen,
                        int64_t tokens) {
  emit = out;
  int64_t header[3] = {samples, seqLen, tokens};
  if (!writeAll(out, "TRTH", 4) || !writeAll(out, header, sizeof(header)))
    problem = "cannot write the layer inputs";
}

bool Calibrator::readTeacher(FILE *in, int64_t samples, int64_t seqLen,
                             int64_t tokens) {
  teacher = in;
  char magic[4];
  int64_t header[3];
  if (!readAll(in, magic, 4) || std::memcmp(magic, "TRTH", 4) != 0 ||
      !readAll(in, header, sizeof(header))) {
    problem = "the teacher program sent no layer inputs";
    return false;
  }
  if (header[0] != samples || header[1] != seqLen || header[2] != tokens) {
    problem = "the teacher program reads other windows (" +
              std::to_string(header[0]) + " samples of " +
              std::to_string(header[1]) + " tokens from " +
              std::to_string(header[2]) + " text tokens, against " +
              std::to_string(samples) + " of " + std::to_string(seqLen) +
              " from " + std::to_string(tokens) + ")";
    return false;
  }
  for (Layer &l : stats)
    if (l.active && l.sameAs < 0)
      l.cross.assign(size_t(l.cols * l.cols), 0.0);
  return true;
}

void Calibrator::emitRecord(int64_t id, const float *x, int64_t rows,
                            int64_t cols, int64_t stride) {
  std::string names = groupNames(id);
  uint32_t n = uint32_t(names.size());
  int64_t shape[2] = {rows, cols};
  bool ok = writeAll(emit, "TRTX", 4) && writeAll(emit, &n, sizeof(n)) &&
            writeAll(emit, names.data(), names.size()) &&
            writeAll(emit, shape, sizeof(shape));
  for (int64_t r = 0; ok && r < rows; ++r)
    ok = writeAll(emit, x + r * stride, size_t(cols) * sizeof(float));
  if (!ok)
    problem = "cannot write the layer inputs (did the reader stop?)";
}

bool Calibrator::readRecord(int64_t id, int64_t rows, int64_t cols) {
  const std::string want = groupNames(id);
  char magic[4];
  uint32_t n = 0;
  if (!readAll(teacher, magic, 4) || std::memcmp(magic, "TRTX", 4) != 0 ||
      !readAll(teacher, &n, sizeof(n)) || n > (1u << 24)) {
    problem = "the teacher program stopped before layer " + want;
    return false;
  }
  std::string names(n, '\0');
  int64_t shape[2];
  if (!readAll(teacher, names.data(), n) ||
      !readAll(teacher, shape, sizeof(shape))) {
    problem = "the teacher program stopped before layer " + want;
    return false;
  }
  // Every layer this program observes through this input must be among
  // those the teacher sent it for.
  std::vector<std::string> sent = splitNames(names);
  bool named = true;
  for (const std::string &one : splitNames(want))
    named = named && std::find(sent.begin(), sent.end(), one) != sent.end();
  if (!named || shape[0] != rows || shape[1] != cols) {
    problem = "the teacher program sent the input of " + names + " [" +
              std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
              "] where " + want + " [" + std::to_string(rows) + ", " +
              std::to_string(cols) + "] was expected";
    return false;
  }
  teacherRows.resize(size_t(rows * cols));
  if (!readAll(teacher, teacherRows.data(), teacherRows.size() * sizeof(float))) {
    problem = "the teacher program stopped inside the input of " + want;
    return false;
  }
  return true;
}

namespace {
/// Σ_r a[r] b[r] over one chunk, in eight float lanes (which vectorize
/// without reassociating), summed in double.
inline double chunkDot(const float *a, const float *b) {
  float acc[8] = {};
  for (int64_t r = 0; r < trt::Calibrator::kChunk; r += 8)
    for (int l = 0; l < 8; ++l)
      acc[l] += a[r + l] * b[r + l];
  double s = 0.0;
  for (float v : acc)
    s += double(v);
  return s;
}

/// out[i k + j] += chunkDot(column i of a, column j of b) for every j
/// (j >= i when `upper`); a and b hold k columns of kChunk rows.
void accumulateProducts(const float *a, const float *b, int64_t k, bool upper,
                        double *out) {
  constexpr int64_t n = trt::Calibrator::kChunk;
  for (int64_t i = 0; i < k; ++i) {
    const float *ai = a + i * n;
    double *o = out + i * k;
    for (int64_t j = upper ? i : 0; j < k; ++j)
      o[j] += chunkDot(ai, b + j * n);
  }
}
} // namespace

void Calibrator::observe(int64_t id, const float *x, int64_t rows, int64_t cols,
                         int64_t stride) {
  if (!problem.empty())
    return; // the first problem stops the run; keep it
  if (id < 0 || id >= int64_t(stats.size()) || stats[size_t(id)].cols != cols ||
      stats[size_t(id)].sameAs >= 0) {
    problem = "the program reported layer " + std::to_string(id) + " with " +
              std::to_string(cols) + " columns, which its description lacks";
    return;
  }
  Layer &l = stats[size_t(id)];
  if (!l.active)
    return;
  rows = std::min(rows, validRows);
  if (emit) {
    emitRecord(id, x, rows, cols, stride);
    l.rows += rows;
    return;
  }
  if (teacher && !readRecord(id, rows, cols))
    return;
  // In chunks of kChunk rows: each chunk transposed (zero-padded) into
  // columns, every entry of XᵀX (and X̃ᵀX) a float dot product of kChunk
  // terms, added to the double sums. Float within a chunk, double across
  // chunks: the error stays that of kChunk float products.
  const int64_t k = cols;
  chunk.resize(size_t(k * kChunk));
  if (teacher)
    teacherChunk.resize(size_t(k * kChunk));
  for (int64_t r0 = 0; r0 < rows; r0 += kChunk) {
    const int64_t n = std::min(kChunk, rows - r0);
    std::fill(chunk.begin(), chunk.end(), 0.0f);
    for (int64_t r = 0; r < n; ++r) {
      const float *xr = x + (r0 + r) * stride;
      for (int64_t c = 0; c < k; ++c) {
        chunk[size_t(c * kChunk + r)] = xr[c];
        l.sumAbs[size_t(c)] += std::fabs(double(xr[c]));
        l.maxAbs[size_t(c)] = std::max(l.maxAbs[size_t(c)], std::fabs(xr[c]));
      }
    }
    // Upper triangle of XᵀX; mirrored when written.
    accumulateProducts(chunk.data(), chunk.data(), k, /*upper=*/true,
                       l.gram.data());
    // X̃ᵀX: entry (i, j) gains Σ_r x̃_ri · x_rj (x the teacher's rows).
    if (teacher) {
      std::fill(teacherChunk.begin(), teacherChunk.end(), 0.0f);
      const float *xt = teacherRows.data() + r0 * k;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < k; ++c)
          teacherChunk[size_t(c * kChunk + r)] = xt[r * k + c];
      accumulateProducts(chunk.data(), teacherChunk.data(), k,
                         /*upper=*/false, l.cross.data());
    }
  }
  l.rows += rows;
}

bool Calibrator::write(const std::string &path, const std::string &info,
                       std::string &error) const {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_writer *w = nullptr;
  if (trt_writer_create(path.c_str(), &w, err, sizeof(err)) != TRT_OK) {
    error = err;
    return false;
  }
  auto add = [&](const std::string &name, trt_dtype dtype,
                 std::vector<uint64_t> dims, const void *data, uint64_t bytes) {
    return trt_writer_add(w, name.c_str(), dtype, uint32_t(dims.size()),
                          dims.data(), data, bytes, err, sizeof(err)) == TRT_OK;
  };
  bool ok = true;
  for (const Layer &named : stats) {
    if (!ok)
      break;
    if (!named.requested)
      continue;
    if (named.sameAs >= 0 && (named.sameAs >= int32_t(stats.size()) ||
                              stats[size_t(named.sameAs)].sameAs >= 0 ||
                              stats[size_t(named.sameAs)].cols != named.cols)) {
      error = "layer " + named.name +
              " shares the input of a layer that is not observed";
      trt_writer_destroy(w);
      return false;
    }
    // Layers that share an input are written from the observed one.
    const Layer &l = named.sameAs >= 0 ? stats[size_t(named.sameAs)] : named;
    double n = double(std::max<int64_t>(l.rows, 1));
    size_t k = size_t(l.cols);
    std::vector<float> h(k * k);
    std::vector<float> mean(k);
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = i; j < k; ++j)
        h[i * k + j] = h[j * k + i] = float(l.gram[i * k + j] / n);
      mean[i] = float(l.sumAbs[i] / n);
    }
    ok = add(named.name + ".hessian", TRT_DTYPE_F32, {k, k}, h.data(),
             h.size() * sizeof(float)) &&
         add(named.name + ".absmean", TRT_DTYPE_F32, {k}, mean.data(),
             k * sizeof(float)) &&
         add(named.name + ".absmax", TRT_DTYPE_F32, {k}, l.maxAbs.data(),
             k * sizeof(float));
    if (ok && !l.cross.empty()) {
      std::vector<float> c(k * k);
      for (size_t i = 0; i < k * k; ++i)
        c[i] = float(l.cross[i] / n);
      ok = add(named.name + ".cross", TRT_DTYPE_F32, {k, k}, c.data(),
               c.size() * sizeof(float));
    }
  }
  int64_t count = rows();
  ok = ok &&
       add("calibration.rows", TRT_DTYPE_I64, {1}, &count, sizeof(count)) &&
       add("calibration.info", TRT_DTYPE_BYTES, {info.size()}, info.data(),
           info.size()) &&
       trt_writer_finish(w, err, sizeof(err)) == TRT_OK;
  trt_writer_destroy(w);
  if (!ok)
    error = err;
  return ok;
}

} // namespace trt
