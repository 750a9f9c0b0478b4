//===- sampler.cpp - Next-token sampling from logits ----------------------===//
//
// run.c's sample(), sample_argmax(), sample_mult(), sample_topp(),
// softmax() and random_u32()/random_f32(), with three differences that only
// show where run.c misbehaves: seed 0 is replaced, top-p falls back to the
// whole distribution when no token passes its cutoff (run.c then reads
// before its array), and candidates of equal probability are ordered by
// index (qsort leaves their order unspecified). Logits of +inf share all
// the probability instead of turning the softmax into NaNs.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/sampler.h"

#include <algorithm>
#include <cmath>

namespace trt {

namespace {

/// Replaces seed 0, from which xorshift only produces zeros.
constexpr uint64_t kDefaultSeed = 0x9E3779B97F4A7C15ull;

/// Index of the largest value, the first one on ties (run.c's
/// sample_argmax). NaNs are never chosen unless \p values[0] is one.
int32_t argmax(const float *values, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (values[i] > values[best])
      best = i;
  return best;
}

/// In-place softmax, as run.c's (max subtracted, float accumulation).
void softmax(float *x, int32_t n) {
  float max = x[argmax(x, n)];
  if (std::isinf(max) && max > 0) {
    // exp(inf - inf) is NaN: give the +inf logits equal shares instead.
    int32_t count = 0;
    for (int32_t i = 0; i < n; ++i)
      count += x[i] == max;
    for (int32_t i = 0; i < n; ++i)
      x[i] = x[i] == max ? 1.0f / float(count) : 0.0f;
    return;
  }
  float sum = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (int32_t i = 0; i < n; ++i)
    x[i] /= sum;
}

/// Inverse-CDF draw from \p probs with \p coin in [0, 1) (run.c's
/// sample_mult); the last index if rounding leaves the CDF below the coin.
int32_t sampleMultinomial(const float *probs, int32_t n, float coin) {
  float cdf = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    cdf += probs[i];
    if (coin < cdf)
      return i;
  }
  return n - 1;
}

} // namespace

Sampler::Sampler(int32_t vocab, float temperature, float topP, uint64_t seed)
    : vocab(vocab), temperature(temperature), topP(topP),
      state(seed ? seed : kDefaultSeed) {}

uint32_t Sampler::nextU32() {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return uint32_t((state * 0x2545F4914F6CDD1Dull) >> 32);
}

float Sampler::nextF32() { return float(nextU32() >> 8) / 16777216.0f; }

int32_t Sampler::sample(float *logits) {
  if (!logits || vocab <= 0)
    return -1;
  // `!(t > 0)` is also true for NaN.
  if (!(temperature > 0.0f))
    return argmax(logits, vocab);

  for (int32_t i = 0; i < vocab; ++i)
    logits[i] /= temperature;
  softmax(logits, vocab);
  float coin = nextF32();
  if (!(topP > 0.0f && topP < 1.0f) || vocab == 1)
    return sampleMultinomial(logits, vocab, coin);

  // Top-p: tokens below (1 - topP) / (vocab - 1) cannot be in the nucleus,
  // so they are dropped before sorting.
  const float cutoff = (1.0f - topP) / float(vocab - 1);
  candidates.clear();
  for (int32_t i = 0; i < vocab; ++i)
    if (logits[i] >= cutoff)
      candidates.emplace_back(logits[i], i);
  if (candidates.empty()) {
    // Only when the distribution is nearly flat (or NaN): use all of it.
    // NaNs stay out, so the sort below sees a strict weak order.
    for (int32_t i = 0; i < vocab; ++i)
      if (!std::isnan(logits[i]))
        candidates.emplace_back(logits[i], i);
    if (candidates.empty())
      return argmax(logits, vocab);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const std::pair<float, int32_t> &a,
               const std::pair<float, int32_t> &b) {
              if (a.first != b.first)
                return a.first > b.first;
              return a.second < b.second;
            });
  // The nucleus: the shortest prefix whose probability exceeds topP.
  float cumulative = 0.0f;
  size_t last = candidates.size() - 1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    cumulative += candidates[i].first;
    if (cumulative > topP) {
      last = i;
      break;
    }
  }
  // Draw within the nucleus, renormalized by its probability.
  float r = coin * cumulative;
  float cdf = 0.0f;
  for (size_t i = 0; i <= last; ++i) {
    cdf += candidates[i].first;
    if (r < cdf)
      return candidates[i].second;
  }
  return candidates[last].second;
}

} // namespace trt
