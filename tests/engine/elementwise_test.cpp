// Elementwise ops, reductions and matmul/linear: finite-difference gradient checks in double and
// error messages for bad shapes and devices.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/gradcheck.h"

namespace fusenas {
namespace {

using testing::expect_gradients_match;
using testing::random_double;

TEST(ElementwiseGrad, BinaryOpsWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}};
  for (const auto& [sa, sb] : shapes) {
    Tensor a = random_double(sa, 1), b = random_double(sb, 2, 0.5, 2.0);
    expect_gradients_match([](const auto& x) { return add(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const auto& x) { return sub(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const auto& x) { return mul(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const auto& x) { return div(x[0], x[1]); }, {a, b});
  }
}

TEST(ElementwiseGrad, UnaryOps) {
  Tensor x = random_double({3, 5}, 3);
  Tensor pos = random_double({3, 5}, 4, 0.2, 2.0);
  expect_gradients_match([](const auto& v) { return relu(v[0]); }, {x});
  expect_gradients_match([](const auto& v) { return sigmoid(v[0]); }, {x});
  expect_gradients_match([](const auto& v) { return tanh(v[0]); }, {x});
  expect_gradients_match([](const auto& v) { return exp(v[0]); }, {x});
  expect_gradients_match([](const auto& v) { return log(v[0]); }, {pos});
  expect_gradients_match([](const auto& v) { return scale(v[0], -1.5); }, {x});
  expect_gradients_match([](const auto& v) { return square(v[0]); }, {x});
  expect_gradients_match([](const auto& v) { return add_scalar(v[0], 2.0); }, {x});
  expect_gradients_match([](const auto& v) { return sqrt(v[0]); }, {pos});
  expect_gradients_match([](const auto& v) { return clamp_max(v[0], 0.3); }, {x});
}

TEST(ElementwiseGrad, Reductions) {
  Tensor x = random_double({2, 3, 4, 5}, 5);
  expect_gradients_match([](const auto& v) { return sum(v[0], {0, 1, 2}); }, {x});
  expect_gradients_match([](const auto& v) { return sum(v[0], {1, 3}, true); }, {x});
  expect_gradients_match([](const auto& v) { return mean(v[0], {-1}); }, {x});
  expect_gradients_match([](const auto& v) { return mean(v[0]); }, {x});
  expect_gradients_match(
      [](const auto& v) {
        return sum(v[0].permute({3, 1, 0, 2}), {0, 3});
      },
      {x});
}

TEST(ElementwiseGrad, MatmulAndLinear) {
  Tensor a = random_double({3, 4}, 6), b = random_double({4, 5}, 7);
  expect_gradients_match([](const auto& v) { return matmul(v[0], v[1]); }, {a, b});
  Tensor ba = random_double({2, 3, 4}, 8), bb = random_double({2, 4, 2}, 9);
  expect_gradients_match([](const auto& v) { return matmul(v[0], v[1]); }, {ba, bb});
  Tensor x = random_double({2, 3, 4}, 10), w = random_double({5, 4}, 11),
         bias = random_double({5}, 12);
  expect_gradients_match([](const auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
  expect_gradients_match([](const auto& v) { return linear(v[0], v[1]); }, {x, w});
}

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
