//===- Hadamard.h - randomized Hadamard rotation of the input ---*- C++ -*-===//
//
// Part of TerMinator. QuaRot/HIGGS-style rotation of the input dimension
// that spreads outlier columns before ternarization.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_PASSES_SOLVERS_HADAMARD_H
#define TERMINATOR_PASSES_SOLVERS_HADAMARD_H

#include "passes/solvers/Ternary.h"

#include <cstdint>
#include <vector>

namespace terminator::solvers {

/// Options of HadamardRotation::create().
struct HadamardOptions {
  /// Seed of the random signs D.
  uint64_t seed = 0;
  /// Size b of the Hadamard blocks: a power of two dividing the size; 0 for
  /// the largest power of two dividing it (5632 = 11 · 512 gives 512).
  int64_t blockSize = 0;
};

/// The orthogonal K x K matrix R = D · diag(H_b, …, H_b) / √b: D a random
/// ±1 diagonal drawn from the seed, H_b the b x b Sylvester–Hadamard matrix
/// (b = K gives the plain randomized Hadamard transform D·H_K/√K). Rotating
/// activations x ↦ xR and weights W ↦ WR keeps every product:
///   (xR)(WR)ᵀ = x R Rᵀ Wᵀ = x Wᵀ,
/// and the Gram matrix of the rotated activations is Rᵀ H R. Applying R to
/// a row costs K log₂ b (fast Walsh–Hadamard transform); the matrix itself
/// is never formed.
class HadamardRotation {
public:
  /// Fails when size < 1, blockSize < 0, blockSize is not a power of two
  /// dividing size, or (blockSize 0) size is odd, so that the largest
  /// power-of-two block would be 1 and R only a sign flip.
  static Result<HadamardRotation> create(int64_t size,
                                         const HadamardOptions &options = {});

  int64_t size() const { return size_; }
  int64_t blockSize() const { return blockSize_; }

  /// rows ← rows · R for `count` row-major rows of size() floats: one
  /// activation vector (count 1), a batch X of activations, or the weights W
  /// (rows = output channels).
  void apply(float *rows, int64_t count) const;
  /// rows ← rows · Rᵀ = rows · R⁻¹, undoing apply().
  void applyInverse(float *rows, int64_t count) const;
  /// Rᵀ H R, row-major: the Gram matrix of the rotated activations. Fails
  /// when `h` is not size() x size().
  Result<std::vector<float>> rotateGram(MatrixView h) const;

private:
  HadamardRotation(int64_t size, int64_t blockSize, std::vector<float> signs)
      : size_(size), blockSize_(blockSize), signs_(std::move(signs)) {}
  /// In-place x ← x · diag(H_b, …) / √b on one row.
  void transform(float *row) const;

  int64_t size_;
  int64_t blockSize_;
  std::vector<float> signs_;
};

} // namespace terminator::solvers

#endif // TERMINATOR_PASSES_SOLVERS_HADAMARD_H
