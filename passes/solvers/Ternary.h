//===- Ternary.h - ternary quantizers on dense float matrices ----*- C++ -*-===//
//
// Part of TerMinator. Plain C++ over row-major float matrices: no MLIR, so
// the mathematics is unit tested on its own.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_TERNARY_H
#define TERMINATOR_PASSES_SOLVERS_TERNARY_H

#include <cstdint>
#include <vector>

namespace terminator::solvers {

/// A read-only row-major view of a rows x cols float matrix.
struct MatrixView {
  const float *data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  float at(int64_t r, int64_t c) const { return data[r * cols + c]; }
};

/// W ≈ scale[r, g] · codes[r, c] + offset[r, g], g = c / groupSize.
struct TernaryMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  /// Columns per scale group; `cols` for one group per row.
  int64_t groupSize = 0;
  /// rows x cols codes in {-1, 0, 1}.
  std::vector<int8_t> codes;
  /// rows x groupsPerRow() scales.
  std::vector<float> scales;
  /// rows x groupsPerRow() offsets; empty for a symmetric quantizer.
  std::vector<float> offsets;

  int64_t groupsPerRow() const {
    return groupSize <= 0 ? 0 : (cols + groupSize - 1) / groupSize;
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

/// ‖W − Ŵ‖_F / ‖W‖_F (0 for an all-zero W that is reproduced exactly).
double relativeFrobeniusError(MatrixView w, const TernaryMatrix &q);

/// Fraction of zero codes.
double sparsity(const TernaryMatrix &q);

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_TERNARY_H
