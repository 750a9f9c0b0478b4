//===- CalibrateTest.cpp - calibration statistics and the teacher stream --===//
//
// Part of TerMinator. The runtime's Calibrator (runtime/src/calibrate.h):
// the Gram matrices it sums, and asymmetric calibration, where a teacher
// (the f32 program) streams its layer inputs and the student sums X̃ᵀX.
//
//===----------------------------------------------------------------------===//

#include "runtime/src/calibrate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// Layer 0 (3 columns) shares its input with layer 1; layer 2 has 2 columns.
const trt_calib_layer kLayers[] = {{"a", 3, -1}, {"b", 3, 0}, {"c", 2, -1}};
constexpr int64_t kSamples = 2, kSeq = 4, kTokens = 100;

/// Inputs of one window: 4 rows, of which the calibrator keeps 3.
std::vector<float> rows(int64_t cols, float base) {
  std::vector<float> x(size_t(4 * cols));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = base + 0.25f * float(i) - 0.1f * float(i * i % 7);
  return x;
}

/// A temporary file name in the test's folder.
std::string tempPath(const char *stem) {
  std::string path = ::testing::TempDir() + stem + std::to_string(getpid());
  return path;
}

/// The f32 [k, k] entry NAME of the statistics archive at `path`.
std::vector<float> entry(const std::string &path, const std::string &name,
                         int64_t k) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *a = nullptr;
  EXPECT_EQ(trt_archive_open(path.c_str(), 0, &a, err, sizeof(err)), TRT_OK)
      << err;
  const trt_entry *e = nullptr;
  std::vector<float> out;
  if (a && trt_archive_find(a, name.c_str(), &e, err, sizeof(err)) == TRT_OK) {
    EXPECT_EQ(e->nbytes, uint64_t(k * k) * sizeof(float));
    const float *f = static_cast<const float *>(e->data);
    out.assign(f, f + k * k);
  }
  trt_archive_close(a);
  return out;
}

bool has(const std::string &path, const std::string &name) {
  char err[TRT_ERROR_MESSAGE_SIZE];
  trt_archive *a = nullptr;
  if (trt_archive_open(path.c_str(), 0, &a, err, sizeof(err)) != TRT_OK)
    return false;
  const trt_entry *e = nullptr;
  bool found = trt_archive_find(a, name.c_str(), &e, err, sizeof(err)) == TRT_OK;
  trt_archive_close(a);
  return found;
}

TEST(CalibrateTest, StudentSumsTheCrossMatrixOfTheTeachersInputs) {
  std::vector<float> fa = rows(3, 1.0f), fc = rows(2, -2.0f); // teacher
  std::vector<float> qa = rows(3, 0.5f), qc = rows(2, -1.0f); // student
  FILE *stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    trt::Calibrator teacher(kLayers, 3);
    teacher.emitTo(stream, kSamples, kSeq, kTokens);
    teacher.setValidRows(3);
    for (int s = 0; s < kSamples; ++s) {
      teacher.observe(0, fa.data(), 4, 3, 3);
      teacher.observe(2, fc.data(), 4, 2, 2);
    }
    EXPECT_EQ(teacher.problem, "");
  }
  std::rewind(stream);
  trt::Calibrator student(kLayers, 3);
  ASSERT_TRUE(student.readTeacher(stream, kSamples, kSeq, kTokens))
      << student.problem;
  student.setValidRows(3);
  for (int s = 0; s < kSamples; ++s) {
    student.observe(0, qa.data(), 4, 3, 3);
    student.observe(2, qc.data(), 4, 2, 2);
  }
  ASSERT_EQ(student.problem, "");
  EXPECT_EQ(std::fgetc(stream), EOF); // every record was read
  std::fclose(stream);

  std::string path = tempPath("cross-");
  std::string error;
  ASSERT_TRUE(student.write(path, "test\n", error)) << error;
  // C_ij = mean over the kept rows of x̃_i · x_j (the two windows agree).
  for (auto [name, k, q, f] :
       {std::tuple("a", int64_t(3), &qa, &fa), std::tuple("b", int64_t(3), &qa, &fa),
        std::tuple("c", int64_t(2), &qc, &fc)}) {
    SCOPED_TRACE(name);
    std::vector<float> c = entry(path, std::string(name) + ".cross", k);
    ASSERT_EQ(c.size(), size_t(k * k));
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double want = 0.0;
        for (int64_t r = 0; r < 3; ++r)
          want += double((*q)[size_t(r * k + i)]) * double((*f)[size_t(r * k + j)]);
        EXPECT_NEAR(c[size_t(i * k + j)], want / 3.0, 1e-5 * (1.0 + std::abs(want)));
      }
    // The Gram matrix is the student's own.
    std::vector<float> h = entry(path, std::string(name) + ".hessian", k);
    ASSERT_EQ(h.size(), size_t(k * k));
    double h00 = 0.0;
    for (int64_t r = 0; r < 3; ++r)
      h00 += double((*q)[size_t(r * k)]) * double((*q)[size_t(r * k)]);
    EXPECT_NEAR(h[0], h00 / 3.0, 1e-5 * (1.0 + h00));
  }
  std::remove(path.c_str());
}

TEST(CalibrateTest, RestrictedLayersAreObservedThroughTheirInput) {
  // Only "b" (which reads a's input) and "c": the teacher emits a's input
  // once, named "b"; statistics are written for b and c only.
  std::vector<float> fa = rows(3, 1.0f), fc = rows(2, -2.0f);
  FILE *stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  std::string error;
  trt::Calibrator teacher(kLayers, 3);
  ASSERT_TRUE(teacher.restrictTo("b,c", error)) << error;
  EXPECT_EQ(teacher.observedNames(), "b,c");
  teacher.emitTo(stream, kSamples, kSeq, kTokens);
  teacher.setValidRows(4);
  teacher.observe(0, fa.data(), 4, 3, 3);
  teacher.observe(2, fc.data(), 4, 2, 2);
  std::rewind(stream);
  trt::Calibrator student(kLayers, 3);
  ASSERT_TRUE(student.restrictTo("b,c", error));
  ASSERT_TRUE(student.readTeacher(stream, kSamples, kSeq, kTokens));
  student.setValidRows(4);
  student.observe(0, fa.data(), 4, 3, 3);
  student.observe(2, fc.data(), 4, 2, 2);
  ASSERT_EQ(student.problem, "");
  std::fclose(stream);
  std::string path = tempPath("restricted-");
  ASSERT_TRUE(student.write(path, "test\n", error)) << error;
  EXPECT_TRUE(has(path, "b.cross"));
  EXPECT_TRUE(has(path, "c.hessian"));
  EXPECT_FALSE(has(path, "a.hessian"));
  // Same inputs: the cross matrix is the Gram matrix.
  EXPECT_EQ(entry(path, "b.cross", 3), entry(path, "b.hessian", 3));
  std::remove(path.c_str());

  trt::Calibrator other(kLayers, 3);
  EXPECT_FALSE(other.restrictTo("a,zz", error));
  EXPECT_EQ(error, "--layers names zz, which this program does not observe");
}

TEST(CalibrateTest, MismatchedStreamsAreRefusedWithAReason) {
  std::vector<float> fa = rows(3, 1.0f), fc = rows(2, -2.0f);
  auto teacherStream = [&](bool cFirst) {
    FILE *stream = std::tmpfile();
    trt::Calibrator teacher(kLayers, 3);
    teacher.emitTo(stream, kSamples, kSeq, kTokens);
    teacher.setValidRows(3);
    if (cFirst)
      teacher.observe(2, fc.data(), 4, 2, 2);
    teacher.observe(0, fa.data(), 4, 3, 3);
    std::rewind(stream);
    return stream;
  };
  {
    // Other windows (a different --samples).
    FILE *stream = teacherStream(false);
    trt::Calibrator student(kLayers, 3);
    EXPECT_FALSE(student.readTeacher(stream, 3, kSeq, kTokens));
    EXPECT_EQ(student.problem,
              "the teacher program reads other windows (2 samples of 4 tokens "
              "from 100 text tokens, against 3 of 4 from 100)");
    std::fclose(stream);
  }
  {
    // Another layer order.
    FILE *stream = teacherStream(true);
    trt::Calibrator student(kLayers, 3);
    ASSERT_TRUE(student.readTeacher(stream, kSamples, kSeq, kTokens));
    student.setValidRows(3);
    student.observe(0, fa.data(), 4, 3, 3);
    EXPECT_EQ(student.problem, "the teacher program sent the input of c [3, "
                               "2] where a,b [3, 3] was expected");
    std::fclose(stream);
  }
  {
    // The teacher stopped early; the first problem is kept.
    FILE *stream = teacherStream(false);
    trt::Calibrator student(kLayers, 3);
    ASSERT_TRUE(student.readTeacher(stream, kSamples, kSeq, kTokens));
    student.setValidRows(3);
    student.observe(0, fa.data(), 4, 3, 3);
    student.observe(2, fc.data(), 4, 2, 2);
    EXPECT_EQ(student.problem, "the teacher program stopped before layer c");
    student.observe(0, fa.data(), 4, 3, 3);
    EXPECT_EQ(student.problem, "the teacher program stopped before layer c");
    std::fclose(stream);
  }
  {
    // No stream at all.
    FILE *stream = std::tmpfile();
    trt::Calibrator student(kLayers, 3);
    EXPECT_FALSE(student.readTeacher(stream, kSamples, kSeq, kTokens));
    EXPECT_EQ(student.problem, "the teacher program sent no layer inputs");
    std::fclose(stream);
  }
}

} // namespace

// Many rows, in calls that are not whole chunks, with a row stride wider
// than the input: the Gram matrix and the cross matrix match double sums.
TEST(CalibrateTest, ChunkedSumsMatchDoubleSumsOnAwkwardShapes) {
  constexpr int64_t k = 67, stride = 70, calls = 3, perCall = 150;
  const trt_calib_layer layers[] = {{"w", k, -1}};
  auto data = [](float seed) {
    std::vector<float> x(size_t(perCall * stride));
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = std::sin(seed + 0.37f * float(i)) * (1.0f + float(i % 5));
    return x;
  };
  std::vector<std::vector<float>> studentRows, teacherRows;
  for (int64_t c = 0; c < calls; ++c) {
    studentRows.push_back(data(float(c)));
    teacherRows.push_back(data(10.0f + float(c)));
  }
  const int64_t valid = perCall - 11; // the last rows of each call are padding
  FILE *stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    trt::Calibrator teacher(layers, 1);
    teacher.emitTo(stream, calls, perCall, kTokens);
    teacher.setValidRows(valid);
    for (int64_t c = 0; c < calls; ++c)
      teacher.observe(0, teacherRows[size_t(c)].data(), perCall, k, stride);
    ASSERT_EQ(teacher.problem, "");
  }
  std::rewind(stream);
  trt::Calibrator student(layers, 1);
  ASSERT_TRUE(student.readTeacher(stream, calls, perCall, kTokens))
      << student.problem;
  student.setValidRows(valid);
  for (int64_t c = 0; c < calls; ++c)
    student.observe(0, studentRows[size_t(c)].data(), perCall, k, stride);
  ASSERT_EQ(student.problem, "");
  std::fclose(stream);
  std::string path = tempPath("chunked-");
  std::string error;
  ASSERT_TRUE(student.write(path, "test\n", error)) << error;
  std::vector<float> h = entry(path, "w.hessian", k);
  std::vector<float> x = entry(path, "w.cross", k);
  ASSERT_EQ(h.size(), size_t(k * k));
  ASSERT_EQ(x.size(), size_t(k * k));
  const double n = double(calls * valid);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double gram = 0.0, cross = 0.0;
      for (int64_t c = 0; c < calls; ++c)
        for (int64_t r = 0; r < valid; ++r) {
          double si = studentRows[size_t(c)][size_t(r * stride + i)];
          gram += si * studentRows[size_t(c)][size_t(r * stride + j)];
          cross += si * teacherRows[size_t(c)][size_t(r * stride + j)];
        }
      EXPECT_NEAR(h[size_t(i * k + j)], gram / n, 1e-5 * (1.0 + std::abs(gram / n)))
          << i << "," << j;
      EXPECT_NEAR(x[size_t(i * k + j)], cross / n, 1e-5 * (1.0 + std::abs(cross / n)))
          << i << "," << j;
    }
  std::remove(path.c_str());
}
