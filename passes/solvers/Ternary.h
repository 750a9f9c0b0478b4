//===- Ternary.h - ternary quantizers on dense float matrices ---*- C++ -*-===//
//
// Part of TerMinator. Plain C++ over row-major float matrices: no MLIR, so
// the mathematics is unit tested on its own. This file has the shared types
// and BitNet absmean; the other solvers are in ScaleSearch.h, Als.h,
// Asymmetric.h (PT²-LLM ITF, AGA, GPTQ) and Hadamard.h, the metrics in
// Metrics.h.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_TERNARY_H
#define TERMINATOR_PASSES_SOLVERS_TERNARY_H

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace terminator::solvers {

/// A read-only row-major view of a rows x cols float matrix.
struct MatrixView {
  const float *data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  float at(int64_t r, int64_t c) const { return data[r * cols + c]; }
  /// True for the default-constructed view, used as "no matrix given".
  bool isNull() const { return data == nullptr; }
};

/// Why a solver could not run: a lowercase message without a final period
/// that names the numbers, e.g. "expects a 256 x 256 gram matrix, but h is
/// 128 x 256".
struct Error {
  std::string message;
};

/// A value of type T, or the Error that prevented it. Solvers report bad
/// options and shapes through this type; they never assert, abort or throw on
/// bad input.
template <typename T> class Result {
public:
  Result(T value) : value_(std::move(value)) {}
  Result(Error error) : error_(std::move(error.message)) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  /// The reason for failure; empty when ok().
  const std::string &error() const { return error_; }

  /// The value; only when ok().
  T &operator*() { return *value_; }
  const T &operator*() const { return *value_; }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }

private:
  std::optional<T> value_;
  std::string error_;
};

/// W ≈ scale[r, g] · codes[r, c] + offset[r, g], g = c / groupSize.
///
/// One scale per tensor is stored as the same scale on every row; the last
/// group of a row is shorter when groupSize does not divide cols.
struct TernaryMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  /// Columns per scale group; `cols` for one group per row.
  int64_t groupSize = 0;
  /// rows x cols codes: {-1, 0, 1} for the ternary quantizers, up to
  /// ±(2^(bits-1) - 1) for `symmetricInt`.
  std::vector<int8_t> codes;
  /// rows x groupsPerRow() scales.
  std::vector<float> scales;
  /// rows x groupsPerRow() offsets; empty for a symmetric quantizer.
  std::vector<float> offsets;

  /// All-zero codes, scales (and offsets when `withOffsets`) for a
  /// rows x cols matrix with `groupSize` columns per group (0: one per row).
  static TernaryMatrix zeros(int64_t rows, int64_t cols, int64_t groupSize,
                             bool withOffsets);

  int64_t groupsPerRow() const {
    return groupSize <= 0 ? 0 : (cols + groupSize - 1) / groupSize;
  }
  /// Index into `scales` / `offsets` of the group holding (r, c).
  int64_t groupIndex(int64_t r, int64_t c) const {
    return r * groupsPerRow() + c / groupSize;
  }
  /// The value this matrix stands for at (r, c).
  float decode(int64_t r, int64_t c) const;
  /// All decoded values, row-major.
  std::vector<float> decodeAll() const;
};

/// Where one absmean scale is shared.
enum class Granularity { Tensor, Row };

/// BitNet b1.58 absmean: s = mean|W| over the tensor or each row,
/// T = clip(round(W / s), -1, 1). A zero group gets s = 0 and T = 0.
TernaryMatrix absmean(MatrixView w, Granularity granularity);

/// Symmetric integer quantization for matrices kept above ternary precision:
/// per group of `groupSize` columns (0: per row), s = max|W| / q with
/// q = 2^(bits-1) - 1, codes = round(W / s) in [-q, q]. `bits` is 4 or 8.
Result<TernaryMatrix> symmetricInt(MatrixView w, unsigned bits,
                                   int64_t groupSize);

/// ‖W − Ŵ‖_F / ‖W‖_F (0 for an all-zero W that is reproduced exactly).
double relativeFrobeniusError(MatrixView w, const TernaryMatrix &q);

/// Fraction of zero codes. See also codeBalance() in Metrics.h.
double sparsity(const TernaryMatrix &q);

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_TERNARY_H
