//===- calibrate.cpp - input statistics of linear layers ------------------===//
//
// Part of TerMinator. See calibrate.h.
//
//===----------------------------------------------------------------------===//

#include "calibrate.h"

#include <algorithm>
#include <cmath>

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

void Calibrator::observe(int64_t id, const float *x, int64_t rows, int64_t cols,
                         int64_t stride) {
  if (id < 0 || id >= int64_t(stats.size()) || stats[size_t(id)].cols != cols ||
      stats[size_t(id)].sameAs >= 0) {
    problem = "the program reported layer " + std::to_string(id) + " with " +
              std::to_string(cols) + " columns, which its description lacks";
    return;
  }
  Layer &l = stats[size_t(id)];
  rows = std::min(rows, validRows);
  std::vector<double> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = x + r * stride;
    for (int64_t c = 0; c < cols; ++c) {
      row[size_t(c)] = xr[c];
      l.sumAbs[size_t(c)] += std::fabs(double(xr[c]));
      l.maxAbs[size_t(c)] = std::max(l.maxAbs[size_t(c)], std::fabs(xr[c]));
    }
    // Upper triangle of x xᵀ; mirrored when written.
    for (int64_t i = 0; i < cols; ++i) {
      double xi = row[size_t(i)];
      if (xi == 0.0)
        continue;
      double *g = &l.gram[size_t(i * cols)];
      for (int64_t j = i; j < cols; ++j)
        g[j] += xi * row[size_t(j)];
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
