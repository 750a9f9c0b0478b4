//===- EncodingTest.cpp - real bits per weight of the encodings -----------===//
//
// Part of TerMinator.
//
//===----------------------------------------------------------------------===//

#include "dialect/TernaryAttrs.h"
#include "dialect/TernaryDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::ternary;

namespace {

class EncodingTest : public ::testing::Test {
protected:
  EncodingTest() { context.loadDialect<TernaryDialect>(); }
  MLIRContext context;
  Builder b{&context};
};

TEST_F(EncodingTest, TernaryPerRowF32) {
  auto e = TernaryEncodingAttr::get(&context, 0, false, b.getF32Type());
  auto i = cast<WeightEncodingAttrInterface>(e);
  EXPECT_EQ(i.getGroupsPerRow(64), 1);
  // 2-bit codes plus one f32 scale per 64-weight row.
  EXPECT_EQ(i.getStorageBits(172, 64), 172 * (64 * 2 + 32));
  EXPECT_DOUBLE_EQ(i.getBitsPerWeight(172, 64), 2.5);
}

TEST_F(EncodingTest, TernaryBlockWithOffsetF16) {
  auto e = TernaryEncodingAttr::get(&context, 128, true, b.getF16Type());
  auto i = cast<WeightEncodingAttrInterface>(e);
  EXPECT_EQ(i.getGroupsPerRow(2048), 16);
  EXPECT_DOUBLE_EQ(i.getBitsPerWeight(2048, 2048), 2.0 + 32.0 / 128.0);
  // A partial last block still pays for a whole (alpha, mu) pair.
  EXPECT_EQ(i.getGroupsPerRow(130), 2);
  EXPECT_DOUBLE_EQ(i.getBitsPerWeight(1, 130), (130 * 2 + 2 * 32) / 130.0);
}

TEST_F(EncodingTest, IntPerRowAndPerGroup) {
  auto i8 = cast<WeightEncodingAttrInterface>(
      IntEncodingAttr::get(&context, 8, 0, b.getF32Type()));
  EXPECT_DOUBLE_EQ(i8.getBitsPerWeight(64, 64), 8.5);
  EXPECT_EQ(i8.getCodeRange(), (std::pair<int64_t, int64_t>{-127, 127}));
  auto i4 = cast<WeightEncodingAttrInterface>(
      IntEncodingAttr::get(&context, 4, 32, b.getF16Type()));
  EXPECT_DOUBLE_EQ(i4.getBitsPerWeight(64, 64), 4.5);
  EXPECT_EQ(i4.getCodeRange(), (std::pair<int64_t, int64_t>{-7, 7}));
}

TEST_F(EncodingTest, FloatHasNoScales) {
  auto f32 = cast<WeightEncodingAttrInterface>(
      FloatEncodingAttr::get(&context, b.getF32Type()));
  EXPECT_EQ(f32.getGroupsPerRow(64), 0);
  EXPECT_FALSE(f32.getScaleType());
  EXPECT_DOUBLE_EQ(f32.getBitsPerWeight(64, 64), 32.0);
  auto f16 = cast<WeightEncodingAttrInterface>(
      FloatEncodingAttr::get(&context, b.getF16Type()));
  EXPECT_DOUBLE_EQ(f16.getBitsPerWeight(64, 64), 16.0);
}

TEST_F(EncodingTest, EmptyMatrixHasZeroBits) {
  auto e = cast<WeightEncodingAttrInterface>(
      TernaryEncodingAttr::get(&context, 0, false, b.getF32Type()));
  EXPECT_DOUBLE_EQ(e.getBitsPerWeight(0, 64), 0.0);
}

} // namespace
