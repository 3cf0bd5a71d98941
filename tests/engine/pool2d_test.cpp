// max_pool2d, avg_pool2d and global_avg_pool beyond their case tables (tests/cases/pool2d.cpp):
// hand-worked values (in-bounds counting, padding never winning, first-maximum ties, NaN) and
// error messages for bad shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/expect.h"

namespace fusenas {
namespace {

using testing::expect_error;
using testing::expect_values;

const TensorOptions kDouble = TensorOptions{}.with_dtype(DType::Float64);

TEST(PoolValues, AvgPoolCountsOnlyInBoundsTaps) {
  // 3x3 image holding 1..9; a 3x3 window at padding 1.
  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1}, kDouble);
  // Corner (0,0) sees 1, 2, 4, 5; edge (0,1) sees 1..6; the centre sees all nine.
  expect_values(avg_pool2d(x, 3, 1, 1), {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7});
  expect_values(avg_pool2d(x, 3, 1, 1, true), {12.0 / 9, 21.0 / 9, 16.0 / 9, 27.0 / 9, 5, 33.0 / 9,
                                               24.0 / 9, 39.0 / 9, 28.0 / 9});
  // Stride 2: only the four corners.
  expect_values(avg_pool2d(x, 3, 2, 1), {3, 4, 6, 7});
}

TEST(PoolValues, MaxPoolPaddingNeverWinsAndTiesGoToTheFirst) {
  Tensor neg = full({1, 2, 2, 1}, -3.0, kDouble);
  expect_values(max_pool2d(neg, 3, 1, 1), {-3, -3, -3, -3});

  Tensor x = zeros({1, 2, 2, 2}, kDouble).set_requires_grad();
  Tensor y = max_pool2d(x, 2, 1, 0);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 2}));
  y.backward(ones({1, 1, 1, 2}, kDouble));
  expect_values(x.grad(), {1, 1, 0, 0, 0, 0, 0, 0});

  // Overlapping windows (stride 1) each send their gradient to their own max.
  Tensor z = from_vector(std::vector<double>{1, 5, 2, 3, 0, 4, 6, 1, 2}, {1, 3, 3, 1}, kDouble)
                 .set_requires_grad();
  Tensor m = max_pool2d(z, 2, 1, 0);
  expect_values(m, {5, 5, 6, 4});
  m.backward(from_vector(std::vector<double>{1, 10, 100, 1000}, {1, 2, 2, 1}, kDouble));
  expect_values(z.grad(), {0, 11, 0, 0, 0, 1000, 100, 0, 0});
}

TEST(PoolValues, MaxPoolNanWinsAndTakesTheGradient) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = from_vector(std::vector<double>{1, nan, 3, 2, 0, 5}, {1, 2, 3, 1}, kDouble)
                 .set_requires_grad();
  Tensor y = max_pool2d(x, 2, 1, 0);
  const auto v = y.to_vector<double>();
  ASSERT_EQ(v.size(), 2u);
  EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]));
  y.backward(from_vector(std::vector<double>{1, 10}, {1, 1, 2, 1}, kDouble));
  expect_values(x.grad(), {0, 11, 0, 0, 0, 0});
}

TEST(PoolValues, GlobalAvgPool) {
  Tensor x = from_vector(std::vector<double>{1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60},
                         {2, 1, 3, 2}, kDouble);
  expect_values(global_avg_pool(x), {2, 20, 5, 50});
}

TEST(PoolErrors, NameOpAndShapes) {
  expect_error([] { max_pool2d(zeros({2, 3, 4}), 3, 1, 1); }, {"max_pool2d", "[2, 3, 4]"});
  expect_error([] { global_avg_pool(zeros({2, 3})); }, {"global_avg_pool", "[2, 3]"});
  expect_error(
      [] {
        avg_pool2d(zeros({1, 2, 2, 3}), 5, 1, 1);
      },
      {"avg_pool2d", "[1, 2, 2, 3]", "kernel 5"});
  expect_error([] { max_pool2d(zeros({1, 4, 4, 3}), 3, 1, 2); }, {"max_pool2d", "padding 2"});
  expect_error([] { avg_pool2d(zeros({1, 4, 4, 3}), 3, 0, 1); }, {"avg_pool2d", "stride 0"});
}

}  // namespace
}  // namespace fusenas
