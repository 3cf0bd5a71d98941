// The Gaussian-process surrogate and expected improvement, against values worked by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "fusenas/nas/strategy/gaussian_process.h"
#include "support/expect.h"

namespace fusenas::nas::strategy {
namespace {

// The kernel written out independently of the library: Matern-5/2 at distance r.
double k52(double r, double l) {
  const double a = std::sqrt(5.0) * r / l;
  return (1 + a + 5 * r * r / (3 * l * l)) * std::exp(-a);
}

constexpr double kNoiseFree = 0;  // the GP still adds its 1e-8 jitter

TEST(GaussianProcess, Matern52KnownValues) {
  EXPECT_DOUBLE_EQ(matern52(0, 0.7), 1);
  // At r = l: (1 + sqrt 5 + 5/3) e^-sqrt 5 = 0.52399...
  EXPECT_NEAR(matern52(2, 2), (1 + std::sqrt(5.0) + 5.0 / 3) * std::exp(-std::sqrt(5.0)), 1e-15);
  EXPECT_NEAR(matern52(2, 2), 0.5239941088318203, 1e-12);
  EXPECT_LT(matern52(3, 1), matern52(1, 1));
}

// One training point x0 = 0 with y0 = 2: the posterior is mean k(x) y0 / (1 + jitter), variance
// 1 - k(x)^2.
TEST(GaussianProcess, OnePointByHand) {
  const double l = 0.5;
  GaussianProcess gp({{0.0}}, {2.0}, {l, kNoiseFree});
  const auto at0 = gp.predict({0.0});
  EXPECT_NEAR(at0.mean, 2, 1e-7);
  EXPECT_NEAR(at0.variance, 0, 1e-7);
  for (double x : {0.1, 0.4, 1.3}) {
    const auto p = gp.predict({x});
    EXPECT_NEAR(p.mean, 2 * k52(x, l), 1e-7) << x;
    EXPECT_NEAR(p.variance, 1 - k52(x, l) * k52(x, l), 1e-7) << x;
  }
  // log p(y) for y ~ N(0, 1): -y^2 / 2 - log(2 pi) / 2.
  EXPECT_NEAR(gp.log_marginal_likelihood(), -2 - 0.5 * std::log(2 * M_PI), 1e-7);
  // With noise s2: y ~ N(0, 1 + s2).
  GaussianProcess noisy({{0.0}}, {2.0}, {l, 0.25});
  EXPECT_NEAR(noisy.log_marginal_likelihood(),
              -0.5 * 4 / 1.25 - 0.5 * std::log(1.25) - 0.5 * std::log(2 * M_PI), 1e-7);
  EXPECT_NEAR(noisy.predict({0.0}).mean, 2 / 1.25, 1e-7);
}

// Two points x = 0, 1 with y = 1, -1. K = [[1, k], [k, 1]], k = k(1); alpha = K^-1 y = y / (1 - k)
// (y is an eigenvector), so at x = 0.5, where both cross covariances are k(0.5) = c, the mean is
// c (1 - 1) / (1 - k) = 0 and the variance 1 - 2 c^2 / (1 + k).
TEST(GaussianProcess, TwoPointsByHand) {
  const double l = 0.7;
  GaussianProcess gp({{0.0}, {1.0}}, {1.0, -1.0}, {l, kNoiseFree});
  const double k = k52(1, l), c = k52(0.5, l);
  const auto mid = gp.predict({0.5});
  EXPECT_NEAR(mid.mean, 0, 1e-9);
  EXPECT_NEAR(mid.variance, 1 - 2 * c * c / (1 + k), 1e-7);
  // At x = 0.25: k(X, x) = (a, b) with a = k(0.25), b = k(0.75); mean = (a - b) / (1 - k).
  const double a = k52(0.25, l), b = k52(0.75, l);
  EXPECT_NEAR(gp.predict({0.25}).mean, (a - b) / (1 - k), 1e-7);
  for (double x : {0.0, 1.0}) {
    const auto p = gp.predict({x});
    EXPECT_NEAR(p.mean, x == 0 ? 1 : -1, 1e-7);
    EXPECT_NEAR(p.variance, 0, 1e-7);
    EXPECT_LT(p.variance, mid.variance);
  }
}

TEST(GaussianProcess, InterpolatesNoiseFreePointsAndForgetsFarAway) {
  Generator gen(5);
  GaussianProcess::Matrix x(12, std::vector<double>(6));
  std::vector<double> y(12);
  for (size_t i = 0; i < x.size(); ++i) {
    for (double& v : x[i]) v = gen.next_double();
    y[i] = gen.next_normal();
  }
  GaussianProcess gp(x, y, {0.8, kNoiseFree});
  for (size_t i = 0; i < x.size(); ++i) {
    const auto p = gp.predict(x[i]);
    EXPECT_NEAR(p.mean, y[i], 1e-5) << i;
    EXPECT_LT(p.variance, 1e-5) << i;
    // Half-way to another training point the posterior is less sure.
    std::vector<double> between(6);
    for (size_t j = 0; j < 6; ++j) between[j] = 0.5 * (x[i][j] + x[(i + 1) % x.size()][j]);
    EXPECT_GT(gp.predict(between).variance, 100 * p.variance) << i;
  }
  // Far from every point: the prior (mean 0, variance 1).
  const auto far = gp.predict(std::vector<double>(6, 50.0));
  EXPECT_NEAR(far.mean, 0, 1e-9);
  EXPECT_NEAR(far.variance, 1, 1e-9);
}

// Noise lets the posterior mean pass near, not through, a noisy point; its variance stays above 0.
TEST(GaussianProcess, NoiseSmoothsTwoValuesAtOnePoint) {
  GaussianProcess gp({{0.3, 0.3}, {0.3, 0.3}}, {1.0, -1.0}, {1.0, 0.1});
  const auto p = gp.predict({0.3, 0.3});
  EXPECT_NEAR(p.mean, 0, 1e-9);
  // Two observations of f with noise 0.1: variance 1 - 2 / (2 + 0.1) = 0.1 / 2.1.
  EXPECT_NEAR(p.variance, 0.1 / 2.1, 1e-7);
}

TEST(GaussianProcess, DuplicateNoiseFreePointsFactorWithJitter) {
  GaussianProcess gp({{0.5}, {0.5}, {0.9}}, {1.0, 1.0, 0.0}, {0.4, kNoiseFree});
  EXPECT_NEAR(gp.predict({0.5}).mean, 1, 1e-4);
}

TEST(GaussianProcess, FitPicksTheGridPointOfHighestMarginalLikelihood) {
  Generator gen(9);
  GaussianProcess::Matrix x(20, std::vector<double>(3));
  std::vector<double> y;
  for (auto& row : x) {
    for (double& v : row) v = gen.next_double();
    y.push_back(std::sin(4 * row[0]) + row[1]);  // smooth
  }
  const std::vector<double> scales = {0.05, 0.3, 1.0, 3.0};
  const std::vector<double> noises = {1e-6, 1e-2, 0.5};
  const auto gp = GaussianProcess::fit(x, y, scales, noises);
  double best = -1e300;
  for (double l : scales) {
    for (double n : noises)
      best = std::max(best, GaussianProcess(x, y, {l, n}).log_marginal_likelihood());
  }
  EXPECT_EQ(gp.log_marginal_likelihood(), best);
  // A smooth noise-free function: not the shortest scale, not the largest noise.
  EXPECT_GT(gp.hyperparameters().length_scale, 0.05);
  EXPECT_LT(gp.hyperparameters().noise_variance, 0.5);
  // The default grid spans the median distance between points.
  const auto grid = GaussianProcess::default_length_scales(x);
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_LT(grid.front(), grid.back());
  const auto fitted = GaussianProcess::fit(x, y);
  EXPECT_GE(fitted.hyperparameters().length_scale, grid.front());
}

TEST(GaussianProcess, JointSamplesFollowThePosterior) {
  GaussianProcess gp({{0.0}, {1.0}}, {1.0, -1.0}, {0.7, kNoiseFree});
  const GaussianProcess::Matrix xs = {{0.0}, {0.5}, {40.0}};
  Generator gen(3);
  constexpr int kDraws = 4000;
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  for (int i = 0; i < kDraws; ++i) {
    const auto f = gp.sample(xs, gen);
    ASSERT_EQ(f.size(), 3u);
    for (int j = 0; j < 3; ++j) sum[j] += f[j], sq[j] += f[j] * f[j];
  }
  for (int j = 0; j < 3; ++j) {
    const auto p = gp.predict(xs[j]);
    const double mean = sum[j] / kDraws, var = sq[j] / kDraws - mean * mean;
    EXPECT_NEAR(mean, p.mean, 4 * std::sqrt(p.variance / kDraws) + 1e-3) << j;
    EXPECT_NEAR(var, p.variance, 0.1 * p.variance + 1e-3) << j;
  }
}

TEST(GaussianProcess, RejectsBadInput) {
  testing::expect_error([] { GaussianProcess({}, {}, {}); }, {"no training points"});
  testing::expect_error(
      [] {
        GaussianProcess({{0.0}, {1.0, 2.0}}, {0, 0}, {});
      },
      {"point 1 has 2 features"});
  testing::expect_error([] { GaussianProcess({{0.0}}, {NAN}, {}); }, {"value 0 is nan"});
  testing::expect_error([] { GaussianProcess({{0.0}}, {0}, {0, 0}); }, {"length scale"});
  GaussianProcess gp({{0.0}}, {1.0}, {});
  testing::expect_error([&] { gp.predict({0.0, 1.0}); }, {"query has 2 features, not 1"});
}

TEST(ExpectedImprovement, ZeroFarBelowTheIncumbentPositiveAbove) {
  // Far below: 10 standard deviations under the incumbent.
  EXPECT_LT(expected_improvement(-10, 1, 0), 1e-20);
  EXPECT_GE(expected_improvement(-10, 1, 0), 0);
  EXPECT_EQ(expected_improvement(-40, 1, 0), 0);
  // No uncertainty: the plain improvement.
  EXPECT_EQ(expected_improvement(-0.5, 0, 0), 0);
  EXPECT_EQ(expected_improvement(0.75, 0, 0.25), 0.5);
  // At the incumbent: sd * phi(0) = sd / sqrt(2 pi).
  EXPECT_NEAR(expected_improvement(1, 2, 1), 2 / std::sqrt(2 * M_PI), 1e-15);
  // Above: at least the improvement of the mean, and growing with the mean and with sd.
  EXPECT_GT(expected_improvement(0.3, 0.1, 0), 0.3);
  EXPECT_GT(expected_improvement(0.5, 0.1, 0), expected_improvement(0.3, 0.1, 0));
  EXPECT_GT(expected_improvement(-1, 2, 0), expected_improvement(-1, 1, 0));
  // By hand at z = 1: gain Phi(1) + sd phi(1) = 0.8413447460685429 + 0.24197072451914337.
  EXPECT_NEAR(expected_improvement(1, 1, 0), 0.8413447460685429 + 0.24197072451914337, 1e-12);
}

}  // namespace
}  // namespace fusenas::nas::strategy
