//===- Hadamard.cpp - randomized Hadamard rotation of the inputs ----------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "passes/solvers/Hadamard.h"
#include "passes/solvers/Internal.h"

#include <cmath>
#include <random>

namespace terminator::solvers {

Result<HadamardRotation>
HadamardRotation::create(int64_t size, const HadamardOptions &options) {
  if (size < 1)
    return detail::makeError("hadamard rotation needs size >= 1, but has ",
                             size);
  int64_t block = options.blockSize;
  if (block < 0)
    return detail::makeError("hadamard block size must be >= 0, but is ",
                             block);
  if (block == 0) {
    block = size & -size; // The largest power of two dividing size.
    if (block == 1)
      return detail::makeError(
          "hadamard rotation needs an even size, but size is ", size,
          "; pad the input dimension or rotate a power-of-two part of it");
  } else if ((block & (block - 1)) != 0 || size % block != 0) {
    return detail::makeError("hadamard block size ", block,
                             " must be a power of two dividing ", size);
  }
  // Raw engine bits, so the signs are the same with every standard library.
  std::mt19937_64 rng(options.seed);
  std::vector<float> signs(static_cast<size_t>(size));
  uint64_t bits = 0;
  for (int64_t i = 0; i < size; ++i) {
    if (i % 64 == 0)
      bits = rng();
    signs[size_t(i)] = (bits >> (i % 64)) & 1 ? -1.0f : 1.0f;
  }
  return HadamardRotation(size, block, std::move(signs));
}

void HadamardRotation::transform(float *row) const {
  const float norm = float(1.0 / std::sqrt(double(blockSize_)));
  for (float *x = row; x < row + size_; x += blockSize_) {
    // Fast Walsh–Hadamard transform: H_2b = [H_b H_b; H_b −H_b].
    for (int64_t half = 1; half < blockSize_; half *= 2)
      for (int64_t i = 0; i < blockSize_; i += 2 * half)
        for (int64_t j = i; j < i + half; ++j) {
          float a = x[j], b = x[j + half];
          x[j] = a + b;
          x[j + half] = a - b;
        }
    for (int64_t j = 0; j < blockSize_; ++j)
      x[j] *= norm;
  }
}

void HadamardRotation::apply(float *rows, int64_t count) const {
  // x · D · H / √b.
  for (int64_t r = 0; r < count; ++r) {
    float *row = rows + r * size_;
    for (int64_t j = 0; j < size_; ++j)
      row[j] *= signs_[size_t(j)];
    transform(row);
  }
}

void HadamardRotation::applyInverse(float *rows, int64_t count) const {
  // x · Rᵀ = x · (H / √b) · D, H symmetric.
  for (int64_t r = 0; r < count; ++r) {
    float *row = rows + r * size_;
    transform(row);
    for (int64_t j = 0; j < size_; ++j)
      row[j] *= signs_[size_t(j)];
  }
}

Result<std::vector<float>> HadamardRotation::rotateGram(MatrixView h) const {
  if (h.rows != size_ || h.cols != size_ || (size_ > 0 && h.isNull()))
    return detail::makeError("expects a ", size_, " x ", size_,
                             " gram matrix, but h is ", h.rows, " x ", h.cols);
  auto transpose = [&](std::vector<float> &m) {
    for (int64_t i = 0; i < size_; ++i)
      for (int64_t j = i + 1; j < size_; ++j)
        std::swap(m[size_t(i * size_ + j)], m[size_t(j * size_ + i)]);
  };
  // Rᵀ H R = ((H R)ᵀ R)ᵀ.
  std::vector<float> m(h.data, h.data + size_ * size_);
  apply(m.data(), size_);
  transpose(m);
  apply(m.data(), size_);
  transpose(m);
  return m;
}

} // namespace terminator::solvers
