// batch_norm beyond its case table (tests/cases/batch_norm.cpp): the running statistics after
// one update by hand, strided running statistics, a large mean, and error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/expect.h"

namespace fusenas {
namespace {

using testing::expect_error;
using testing::expect_values;

const TensorOptions kDouble = TensorOptions{}.with_dtype(DType::Float64);

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
