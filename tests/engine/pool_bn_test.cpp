// Pooling and batch norm: finite-difference gradient checks in double, hand-worked values and
// error messages for bad shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "support/gradcheck.h"

namespace fusenas {
namespace {

using testing::expect_gradients_match;
using testing::random_double;

const TensorOptions kDouble = TensorOptions{}.with_dtype(DType::Float64);

// Expects `fn` to throw a fusenas::Error whose message contains every string in `parts`.
template <typename F>
void expect_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  const auto got = t.to_vector<double>();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}

TEST(PoolGrad, MaxPool) {
  // Uniform random doubles have no ties, so the max is differentiable everywhere.
  Tensor x = random_double({2, 7, 6, 3}, 1);
  for (int64_t stride : {1, 2}) {
    expect_gradients_match([=](const auto& v) { return max_pool2d(v[0], 3, stride, 1); }, {x});
  }
  expect_gradients_match([](const auto& v) { return max_pool2d(v[0], 2, 2, 0); }, {x});
}

TEST(PoolGrad, AvgPool) {
  Tensor x = random_double({2, 7, 6, 3}, 2);
  for (int64_t stride : {1, 2}) {
    for (bool include_pad : {false, true}) {
      expect_gradients_match(
          [=](const auto& v) { return avg_pool2d(v[0], 3, stride, 1, include_pad); }, {x});
    }
  }
  Tensor big = random_double({2, 8, 8, 3}, 3);
  for (bool include_pad : {false, true}) {
    expect_gradients_match([=](const auto& v) { return avg_pool2d(v[0], 5, 3, 0, include_pad); },
                           {big});
  }
}

TEST(PoolGrad, GlobalAvgPool) {
  Tensor x = random_double({3, 4, 5, 6}, 4);
  expect_gradients_match([](const auto& v) { return global_avg_pool(v[0]); }, {x});
}

TEST(PoolGrad, StridedInput) {
  // An NCHW tensor seen as NHWC through permute: the ops must not assume contiguous input.
  Tensor x = random_double({2, 20, 5, 5}, 5);
  expect_gradients_match(
      [](const auto& v) {
        return max_pool2d(v[0].permute({0, 2, 3, 1}), 3, 2, 1);
      },
      {x});
  expect_gradients_match(
      [](const auto& v) {
        return avg_pool2d(v[0].permute({0, 2, 3, 1}), 3, 1, 1);
      },
      {x});
  expect_gradients_match(
      [](const auto& v) {
        return global_avg_pool(v[0].permute({0, 2, 3, 1}));
      },
      {x});
}

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

TEST(BatchNormGrad, TrainingAffine) {
  Tensor x = random_double({3, 4, 3, 5}, 10, -2, 3);
  Tensor w = random_double({5}, 11, 0.5, 1.5), b = random_double({5}, 12);
  Tensor rm = zeros({5}, kDouble), rv = ones({5}, kDouble);
  expect_gradients_match([&](const auto& v) { return batch_norm(v[0], v[1], v[2], rm, rv, true); },
                         {x, w, b}, 1e-6, 1e-5);
}

TEST(BatchNormGrad, TrainingWithoutAffine) {
  Tensor x = random_double({3, 4, 3, 5}, 13, -2, 3);
  expect_gradients_match([](const auto& v) { return batch_norm(v[0], {}, {}, {}, {}, true); }, {x},
                         1e-6, 1e-5);
}

TEST(BatchNormGrad, Eval) {
  Tensor x = random_double({3, 4, 3, 5}, 14, -2, 3);
  Tensor w = random_double({5}, 15, 0.5, 1.5), b = random_double({5}, 16);
  Tensor rm = random_double({5}, 17, -1, 1, false), rv = random_double({5}, 18, 0.5, 2, false);
  expect_gradients_match([&](const auto& v) { return batch_norm(v[0], v[1], v[2], rm, rv, false); },
                         {x, w, b});
  expect_gradients_match([&](const auto& v) { return batch_norm(v[0], {}, {}, rm, rv, false); },
                         {x});
}

TEST(BatchNormGrad, TwoDimensionalInput) {
  Tensor x = random_double({7, 6}, 19, -2, 3);
  Tensor w = random_double({6}, 20, 0.5, 1.5), b = random_double({6}, 21);
  expect_gradients_match([](const auto& v) { return batch_norm(v[0], v[1], v[2], {}, {}, true); },
                         {x, w, b}, 1e-6, 1e-5);
}

TEST(BatchNormGrad, OnlyWeightNeedsGrad) {
  // No input gradient: the backward runs only its sums pass.
  Tensor x = random_double({4, 3, 3, 4}, 22, -1, 1, false);
  Tensor w = random_double({4}, 23, 0.5, 1.5);
  for (bool training : {true, false}) {
    Tensor rm = zeros({4}, kDouble), rv = ones({4}, kDouble);
    expect_gradients_match([&](const auto& v) { return batch_norm(x, v[0], {}, rm, rv, training); },
                           {w});
  }
}

TEST(BatchNormValues, RunningStatsAfterOneUpdate) {
  // Channel 0 holds 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased var 5/3.
  // Channel 1 holds 2, 4, 6, 8: mean 5, biased var 5, unbiased var 20/3.
  Tensor x = from_vector(std::vector<double>{1, 2, 2, 4, 3, 6, 4, 8}, {4, 2}, kDouble);
  Tensor rm = from_vector(std::vector<double>{1, -1}, {2}, kDouble);
  Tensor rv = ones({2}, kDouble);
  Tensor y = batch_norm(x, {}, {}, rm, rv, true, 0.1, 1e-5);
  expect_values(rm, {0.9 * 1 + 0.1 * 2.5, 0.9 * -1 + 0.1 * 5});
  expect_values(rv, {0.9 + 0.1 * 5.0 / 3, 0.9 + 0.1 * 20.0 / 3});
  const double s0 = 1 / std::sqrt(1.25 + 1e-5), s1 = 1 / std::sqrt(5 + 1e-5);
  expect_values(y, {-1.5 * s0, -3 * s1, -0.5 * s0, -1 * s1, 0.5 * s0, 1 * s1, 1.5 * s0, 3 * s1});

  // Eval uses (and leaves alone) the running stats: y = (x - rm) / sqrt(rv + eps) * w + b.
  Tensor w = from_vector(std::vector<double>{2, 3}, {2}, kDouble);
  Tensor b = from_vector(std::vector<double>{0.5, -0.5}, {2}, kDouble);
  Tensor e = batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5);
  const double m0 = 1.15, v0 = 0.9 + 0.5 / 3, m1 = -0.4, v1 = 0.9 + 2.0 / 3;
  EXPECT_NEAR(e.at({0, 0}), (1 - m0) / std::sqrt(v0 + 1e-5) * 2 + 0.5, 1e-12);
  EXPECT_NEAR(e.at({3, 1}), (8 - m1) / std::sqrt(v1 + 1e-5) * 3 - 0.5, 1e-12);
  expect_values(rm, {m0, m1});
}

TEST(BatchNormValues, FourDimensionalFloatAndStridedRunningStats) {
  // Same numbers as above laid out as [2, 1, 2, 2]; float input; running stats that are every
  // other element of a larger buffer, so the update goes through a copy and back.
  Tensor x = from_vector(std::vector<float>{1, 2, 2, 4, 3, 6, 4, 8}, {2, 1, 2, 2});
  Tensor buffer = zeros({4});
  Tensor rm = buffer.slice(0, 0, 4, 2), rv = buffer.slice(0, 1, 4, 2);
  rv.fill_(1.0);
  batch_norm(x, {}, {}, rm, rv, true, 0.1, 1e-5);
  const auto b = buffer.to_vector<float>();
  EXPECT_NEAR(b[0], 0.25, 1e-6);
  EXPECT_NEAR(b[2], 0.5, 1e-6);
  EXPECT_NEAR(b[1], 0.9 + 0.1 * 5.0 / 3, 1e-6);
  EXPECT_NEAR(b[3], 0.9 + 0.1 * 20.0 / 3, 1e-6);
}

TEST(BatchNormValues, LargeMeanKeepsVarianceAccurate) {
  // |mean| / std = 1e4 in float: a naive E[x^2] - E[x]^2 loses every digit.
  std::vector<float> v(4096);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1e4f + ((i % 2) ? 1.f : -1.f);
  Tensor x = from_vector(v, {4096, 1});
  Tensor rm = zeros({1}), rv = zeros({1});
  batch_norm(x, {}, {}, rm, rv, true, 1.0, 0.0);
  EXPECT_NEAR(rm.item(), 1e4, 1e-3);
  EXPECT_NEAR(rv.item(), 4096.0 / 4095.0, 1e-5);
}

TEST(BatchNormErrors, NameOpAndShapes) {
  const Tensor x = zeros({2, 3, 3, 4});
  expect_error(
      [&] {
        batch_norm(zeros({2, 3, 4}), {}, {}, {}, {}, true);
      },
      {"batch_norm", "[2, 3, 4]"});
  expect_error([&] { batch_norm(x, zeros({5}), {}, {}, {}, true); },
               {"batch_norm", "weight", "[5]", "[2, 3, 3, 4]"});
  expect_error(
      [&] {
        batch_norm(x, {}, zeros({4, 1}), {}, {}, true);
      },
      {"batch_norm", "bias", "[4, 1]"});
  expect_error([&] { batch_norm(x, {}, {}, zeros({3}), ones({4}), true); },
               {"batch_norm", "running_mean", "[3]", "[2, 3, 3, 4]"});
  expect_error([&] { batch_norm(x, {}, {}, zeros({4}), ones({6}), false); },
               {"batch_norm", "running_var", "[6]"});
  expect_error([&] { batch_norm(x, {}, {}, {}, {}, false); }, {"batch_norm", "eval"});
  expect_error([&] { batch_norm(zeros({1, 4}), {}, {}, {}, {}, true); }, {"batch_norm", "[1, 4]"});
  EXPECT_THROW(batch_norm(x, zeros({4}, kDouble), {}, {}, {}, true), Error);
}

}  // namespace
}  // namespace fusenas
