//===- CpuTest.cpp - Tests of CPU feature detection and checks ------------===//
//
// runtime/src/cpu.cpp on the machine running the tests: the answers depend
// on it, so the tests check consistency, not a particular CPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/cpu.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using ::testing::HasSubstr;
using trt::checkCpu;
using trt::CpuFeatures;
using trt::detectCpu;

TEST(Cpu, EmptyRequirementPasses) {
  std::string error = "stale";
  EXPECT_TRUE(checkCpu("", error));
  EXPECT_EQ(error, "");
  EXPECT_TRUE(checkCpu(" , ,", error));
  EXPECT_TRUE(checkCpu("-avx512f", error)) << error;
}

TEST(Cpu, DetectIsConsistent) {
  CpuFeatures cpu = detectCpu();
  EXPECT_FALSE(cpu.name.empty());
  EXPECT_TRUE(std::is_sorted(cpu.features.begin(), cpu.features.end()));
  EXPECT_EQ(std::adjacent_find(cpu.features.begin(), cpu.features.end()),
            cpu.features.end());
  std::vector<std::string> known = trt::knownCpuFeatures();
  for (const std::string &feature : cpu.features) {
    EXPECT_TRUE(std::binary_search(known.begin(), known.end(), feature))
        << feature;
    EXPECT_TRUE(cpu.has(feature));
    // Everything detected passes the check.
    std::string error;
    EXPECT_TRUE(checkCpu(feature, error)) << error;
  }
  // The whole list at once, in LLVM's "+a,+b" spelling.
  std::string all;
  for (const std::string &feature : cpu.features)
    all += (all.empty() ? "+" : ",+") + feature;
  std::string error;
  EXPECT_TRUE(checkCpu(all, error)) << error;
  // Same answer every time.
  EXPECT_EQ(detectCpu().features, cpu.features);

#if defined(__x86_64__)
  EXPECT_EQ(cpu.arch, "x86_64");
  for (const char *base : {"sse", "sse2", "fxsr", "cx8", "64bit"})
    EXPECT_TRUE(cpu.has(base)) << base;
  // Implications that hold on every real CPU (and are checked by LLVM).
  auto implies = [&](const char *a, const char *b) {
    if (cpu.has(a))
      EXPECT_TRUE(cpu.has(b)) << a << " without " << b;
  };
  implies("avx2", "avx");
  implies("fma", "avx");
  implies("avx512bw", "avx512f");
  implies("avx512vl", "avx512f");
  implies("avx512vnni", "avx512f");
  implies("avx512f", "avx2");
  implies("avx512f", "evex512");
  implies("sse4.2", "sse4.1");
#elif defined(__aarch64__)
  EXPECT_EQ(cpu.arch, "aarch64");
  EXPECT_TRUE(cpu.has("neon"));
#endif
}

#if defined(__x86_64__)
TEST(Cpu, Sse2PassesOnX86) {
  std::string error;
  EXPECT_TRUE(checkCpu("sse2", error)) << error;
  EXPECT_TRUE(checkCpu(" +SSE2 , sse ", error)) << error;
}

TEST(Cpu, MissingFeatureNamesFix) {
  CpuFeatures cpu = detectCpu();
  // Some AVX-512 or AMD feature is missing on any x86 CPU.
  std::string missing;
  for (const char *name : {"avx512vp2intersect", "sse4a", "avx512fp16"})
    if (!cpu.has(name)) {
      missing = name;
      break;
    }
  ASSERT_FALSE(missing.empty());
  std::string error;
  EXPECT_FALSE(checkCpu("sse2," + missing, error));
  EXPECT_THAT(error, HasSubstr("lacks: " + missing + ";"));
  EXPECT_THAT(error, HasSubstr(cpu.name));
  EXPECT_THAT(error, HasSubstr("x86_64"));
  EXPECT_THAT(error, HasSubstr("--target=host"));
}
#endif

TEST(Cpu, UnknownFeatureFails) {
  std::string error;
  EXPECT_FALSE(checkCpu("sse2,neon,bogus-feature", error));
  EXPECT_THAT(error, HasSubstr("bogus-feature"));
  EXPECT_THAT(error, HasSubstr("does not know"));
  EXPECT_THAT(error, HasSubstr("--target="));
#if defined(__x86_64__)
  // A feature of another architecture is unknown here.
  EXPECT_THAT(error, HasSubstr(": neon, bogus-feature"));
#elif defined(__aarch64__)
  EXPECT_THAT(error, HasSubstr(": sse2, bogus-feature"));
#endif
}

} // namespace
