//===- calibrate.h - input statistics of linear layers ----------*- C++ -*-===//
//
// Part of TerMinator. Internal to terminator_rt.
//
// A calibration program (terminator-compile --calib-text) calls
// `_mlir_ciface_trt_calib_observe(i, x)` with the input x [rows, cols] of
// linear layer i before each such layer runs. The active Calibrator sums,
// over the first `validRows` rows of every call (the rest is prefill
// padding), the Gram matrix H = XᵀX and per-column |x| sums and maxima, and
// writes them as a statistics archive (docs/calibration.md):
//
//   NAME.hessian  f32 [cols, cols]  H / rows (the mean of x xᵀ)
//   NAME.absmean  f32 [cols]        mean |x| per input column
//   NAME.absmax   f32 [cols]        max |x| per input column
//   calibration.rows  i64 [1]       rows (tokens) observed
//   calibration.info  bytes         how the statistics were made
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_RUNTIME_SRC_CALIBRATE_H
#define TERMINATOR_RUNTIME_SRC_CALIBRATE_H

#include "terminator/runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace trt {

class Calibrator {
public:
  Calibrator(const trt_calib_layer *layers, int32_t count);
  /// Makes this the calibrator the observe hook feeds (nullptr: none).
  static void setActive(Calibrator *c);
  /// Rows of the next calls that hold real tokens.
  void setValidRows(int64_t rows) { validRows = rows; }
  /// Accumulates x [rows, cols] (row stride `stride`) for layer `id`.
  void observe(int64_t id, const float *x, int64_t rows, int64_t cols,
               int64_t stride);
  /// Tokens observed (per layer: the first layer's count; the first layer
  /// is always observed itself).
  int64_t rows() const { return stats.empty() ? 0 : stats[0].rows; }
  /// Writes the statistics archive; false with `error` set on failure.
  bool write(const std::string &path, const std::string &info,
             std::string &error) const;
  /// Set when a call reported an unknown layer or a wrong width.
  std::string problem;

private:
  struct Layer {
    std::string name;
    int64_t cols = 0;
    /// Index of the layer with the same input (statistics written from
    /// it), or -1.
    int32_t sameAs = -1;
    int64_t rows = 0;
    std::vector<double> gram; // cols x cols, upper triangle filled
    std::vector<double> sumAbs;
    std::vector<float> maxAbs;
  };
  std::vector<Layer> stats;
  int64_t validRows = 0;
};

} // namespace trt

#endif // TERMINATOR_RUNTIME_SRC_CALIBRATE_H
