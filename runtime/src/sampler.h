//===- sampler.h - Next-token sampling from logits --------------*- C++ -*-===//
//
// Internal to terminator_rt: picks the next token from the classifier's
// logits as llama2.c's run.c does (greedy argmax, temperature, top-p), with
// its xorshift generator, so a program seeded like run.c samples the same
// tokens from the same logits.
//
//===----------------------------------------------------------------------===//

#ifndef TERMINATOR_RUNTIME_SRC_SAMPLER_H
#define TERMINATOR_RUNTIME_SRC_SAMPLER_H

#include <cstdint>
#include <utility>
#include <vector>

namespace trt {

/// Draws token ids from logits. Deterministic: two samplers built with the
/// same arguments return the same ids for the same logits. Not thread-safe
/// (it owns a random state and scratch space); use one per sequence.
class Sampler {
public:
  /// \p vocab logits per call. \p temperature <= 0 (or NaN) means greedy;
  /// \p topP in (0, 1) enables nucleus sampling, other values sample from
  /// the whole distribution. \p seed 0 is replaced by a fixed non-zero
  /// seed, because xorshift would only ever produce zeros from it.
  Sampler(int32_t vocab, float temperature, float topP, uint64_t seed);

  /// The next token: the index of the largest logit (the lowest index on
  /// ties) when greedy, else a draw from softmax(logits / temperature),
  /// restricted to the smallest set of most likely tokens whose probability
  /// exceeds topP when top-p is on. Overwrites the \p vocab values at
  /// \p logits with the probabilities (not when greedy). Returns -1 if
  /// \p logits is null or vocab is not positive; never aborts, also with
  /// NaN or infinite logits.
  int32_t sample(float *logits);

private:
  /// run.c's random_u32: xorshift64* (top 32 bits).
  uint32_t nextU32();
  /// run.c's random_f32: uniform in [0, 1) with 24 random bits.
  float nextF32();

  int32_t vocab;
  float temperature;
  float topP;
  uint64_t state;
  /// Scratch for top-p: (probability, index) of the candidates.
  std::vector<std::pair<float, int32_t>> candidates;
};

} // namespace trt

#endif // TERMINATOR_RUNTIME_SRC_SAMPLER_H
