// Elementwise ops, reductions and matmul beyond their case tables (tests/cases/unary.cpp,
// binary.cpp, reduce.cpp, matmul.cpp): hand sums, argmax, and error messages for bad shapes.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas {
namespace {

TEST(ElementwiseValues, ReductionsMatchHandSums) {
  Tensor x = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(sum(x, {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(x, {1}).to_vector<float>(), (std::vector<float>{6, 15}));
  EXPECT_EQ(mean(x).item(), 3.5);
  EXPECT_EQ(sum(x, {0, 1}, true).shape(), (Shape{1, 1}));
  EXPECT_EQ(
      argmax_last(from_vector(std::vector<float>{1, 9, 3, 7, 2, 0}, {2, 3})).to_vector<int64_t>(),
      (std::vector<int64_t>{1, 0}));
}

TEST(ElementwiseErrors, ShapeMismatchNamesOpAndShapes) {
  try {
    add(zeros({2, 3}), zeros({4}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
  }
  try {
    matmul(zeros({2, 3}), zeros({4, 5}));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("matmul"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 5]"), std::string::npos) << msg;
  }
  EXPECT_THROW(add(zeros({2}), zeros({2}, TensorOptions{}.with_dtype(DType::Float64))), Error);
}

}  // namespace
}  // namespace fusenas
