//===- SamplerTest.cpp - Tests of the next-token sampler ------------------===//
//
// runtime/src/sampler.cpp: greedy argmax, determinism per seed, top-p and
// the distribution of temperature-1 samples.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

using trt::Sampler;

std::vector<int32_t> draw(Sampler &sampler, const std::vector<float> &logits,
                          int count) {
  std::vector<int32_t> ids;
  for (int i = 0; i < count; ++i) {
    std::vector<float> scratch = logits; // sample() overwrites its input.
    ids.push_back(sampler.sample(scratch.data()));
  }
  return ids;
}

TEST(Sampler, GreedyPicksArgmax) {
  Sampler greedy(5, 0.0f, 0.9f, 42);
  std::vector<float> logits = {0.5f, -1.0f, 3.0f, 2.9f, 3.0f - 1e-6f};
  EXPECT_EQ(greedy.sample(logits.data()), 2);
  // Greedy does not touch the logits.
  EXPECT_EQ(logits[2], 3.0f);
  // Ties: the lowest index.
  std::vector<float> ties = {1.0f, 7.0f, 7.0f, 7.0f, -2.0f};
  EXPECT_EQ(greedy.sample(ties.data()), 1);
  // A negative or NaN temperature is greedy as well.
  Sampler negative(5, -1.0f, 0.0f, 1);
  EXPECT_EQ(negative.sample(ties.data()), 1);
  Sampler nan(5, std::nanf(""), 0.0f, 1);
  EXPECT_EQ(nan.sample(ties.data()), 1);
}

TEST(Sampler, SameSeedSameSamples) {
  std::vector<float> logits = {0.1f, 0.2f, 0.3f, 0.0f, -0.5f, 0.4f, 0.25f};
  for (float topP : {0.0f, 0.9f}) {
    Sampler a(7, 1.0f, topP, 1234), b(7, 1.0f, topP, 1234),
        c(7, 1.0f, topP, 4321);
    std::vector<int32_t> fromA = draw(a, logits, 200);
    EXPECT_EQ(fromA, draw(b, logits, 200));
    EXPECT_NE(fromA, draw(c, logits, 200));
  }
  // Seed 0 is usable: the draws are not all the same token.
  Sampler zero(7, 1.0f, 0.0f, 0);
  std::vector<int32_t> ids = draw(zero, logits, 200);
  EXPECT_NE(std::count(ids.begin(), ids.end(), ids[0]), 200);
}

TEST(Sampler, TinyTopPPicksArgmax) {
  std::vector<float> logits = {0.3f, 1.0f, 2.5f, 0.7f, 2.4f, -1.0f};
  Sampler sampler(6, 1.0f, 1e-6f, 7);
  for (int32_t id : draw(sampler, logits, 500))
    EXPECT_EQ(id, 2);
  // A flat distribution leaves no token above the top-p cutoff: still valid.
  std::vector<float> flat(6, 1.0f);
  for (int32_t id : draw(sampler, flat, 100)) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 6);
  }
}

TEST(Sampler, TopPKeepsTheNucleus) {
  // Probabilities ~ 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps the first two.
  std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  Sampler sampler(4, 1.0f, 0.8f, 99);
  std::vector<int> counts(4, 0);
  for (int32_t id : draw(sampler, logits, 5000))
    ++counts.at(id);
  EXPECT_EQ(counts[2] + counts[3], 0);
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], 0);
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  std::vector<float> logits = {1.0f, 2.0f, 0.0f, -1.0f, 1.5f, 0.5f};
  const int draws = 20000;
  Sampler sampler(int32_t(logits.size()), 1.0f, 1.0f, 2024);
  std::vector<int> counts(logits.size(), 0);
  for (int32_t id : draw(sampler, logits, draws))
    ++counts.at(id);
  double sum = 0;
  for (float l : logits)
    sum += std::exp(double(l));
  for (size_t i = 0; i < logits.size(); ++i) {
    double expected = std::exp(double(logits[i])) / sum;
    double observed = double(counts[i]) / draws;
    // Several standard deviations (at most ~0.0035 here) of slack.
    EXPECT_NEAR(observed, expected, 0.02) << "token " << i;
  }
}

TEST(Sampler, TemperatureSharpens) {
  // At temperature 0.1 the best logit (by 1.0) wins nearly always.
  std::vector<float> logits = {1.0f, 2.0f, 0.0f};
  Sampler sampler(3, 0.1f, 0.0f, 5);
  std::vector<int32_t> ids = draw(sampler, logits, 1000);
  EXPECT_GT(std::count(ids.begin(), ids.end(), 1), 990);
}

TEST(Sampler, BadInputDoesNotCrash) {
  Sampler sampler(3, 1.0f, 0.5f, 1);
  EXPECT_EQ(sampler.sample(nullptr), -1);
  Sampler empty(0, 1.0f, 0.5f, 1);
  float one = 1.0f;
  EXPECT_EQ(empty.sample(&one), -1);

  const float inf = std::numeric_limits<float>::infinity();
  for (float topP : {0.0f, 0.5f}) {
    Sampler s(3, 1.0f, topP, 3);
    std::vector<float> withInf = {0.0f, inf, 1.0f};
    EXPECT_EQ(s.sample(withInf.data()), 1);
    std::vector<float> withNan = {std::nanf(""), 1.0f, 2.0f};
    int32_t id = s.sample(withNan.data());
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 3);
    std::vector<float> allNegInf = {-inf, -inf, -inf};
    id = s.sample(allNegInf.data());
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 3);
  }
  Sampler single(1, 1.0f, 0.5f, 3);
  float logit = 4.0f;
  EXPECT_EQ(single.sample(&logit), 0);
}

} // namespace
