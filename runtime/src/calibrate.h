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
//   NAME.cross    f32 [cols, cols]  X̃ᵀX / rows, with a teacher (below)
//   calibration.rows  i64 [1]       rows (tokens) observed
//   calibration.info  bytes         how the statistics were made
//
// Asymmetric calibration (sequential stages): the f32 program is the
// *teacher*. Run with `emitTo`, it writes the inputs of the requested layers
// as records instead of summing anything; the program of a later stage (the
// *student*, whose earlier layers are ternarized) reads them with
// `readTeacher`, one record per observation in the same order, and sums the
// cross matrix of its own input x̃ and the teacher's x of the same tokens.
// A record is
//
//   "TRTX"  u32 name bytes  names (comma-separated layers sharing the input)
//   i64 rows  i64 cols  rows·cols f32 (row-major)
//
// after one header "TRTH" i64 samples i64 tokens-per-sample i64 text tokens,
// which the student compares with its own so that both read the same
// windows.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_RUNTIME_SRC_CALIBRATE_H
#define TERMINATOR_RUNTIME_SRC_CALIBRATE_H

#include "terminator/runtime.h"

#include <cstdint>
#include <cstdio>
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
  /// Observes only the layers named in `names` (comma-separated); a layer
  /// that shares another's input is observed through it. False with `error`
  /// naming an unknown layer.
  bool restrictTo(const std::string &names, std::string &error);
  /// The names of the layers observed, comma-separated.
  std::string observedNames() const;
  /// Teacher: writes every observed input to `out` (records, see above) and
  /// sums nothing. `header` is written first.
  void emitTo(FILE *out, int64_t samples, int64_t seqLen, int64_t tokens);
  /// Student: reads the teacher's records from `in` and sums X̃ᵀX too.
  /// False with `problem` set when the header differs from these values.
  bool readTeacher(FILE *in, int64_t samples, int64_t seqLen, int64_t tokens);
  /// Accumulates x [rows, cols] (row stride `stride`) for layer `id`.
  void observe(int64_t id, const float *x, int64_t rows, int64_t cols,
               int64_t stride);
  /// Tokens observed (the most any layer saw; every observed layer sees
  /// the same).
  int64_t rows() const;
  /// Writes the statistics archive; false with `error` set on failure.
  bool write(const std::string &path, const std::string &info,
             std::string &error) const;
  /// Set when a call reported an unknown layer or a wrong width.
  std::string problem;
  /// Rows summed in float before they join the double sums.
  static constexpr int64_t kChunk = 64;

private:
  struct Layer {
    std::string name;
    int64_t cols = 0;
    /// Index of the layer with the same input (statistics written from
    /// it), or -1.
    int32_t sameAs = -1;
    /// Observed (restrictTo keeps the named ones and those they share).
    bool active = true;
    /// Named in restrictTo (or no restriction): written by write().
    bool requested = true;
    int64_t rows = 0;
    std::vector<double> gram; // cols x cols, upper triangle filled
    std::vector<double> cross; // cols x cols X̃ᵀX, with a teacher
    std::vector<double> sumAbs;
    std::vector<float> maxAbs;
  };
  std::vector<Layer> stats;
  int64_t validRows = 0;
  FILE *emit = nullptr;
  FILE *teacher = nullptr;
  std::vector<float> teacherRows;
  /// The current chunk of rows, transposed: [cols][kChunk] (student, teacher).
  std::vector<float> chunk, teacherChunk;
  /// The comma-separated requested names sharing layer `id`'s input.
  std::string groupNames(int64_t id) const;
  void emitRecord(int64_t id, const float *x, int64_t rows, int64_t cols,
                  int64_t stride);
  /// Reads the teacher's record for layer `id` into teacherRows.
  bool readRecord(int64_t id, int64_t rows, int64_t cols);
};

} // namespace trt

#endif // TERMINATOR_RUNTIME_SRC_CALIBRATE_H
