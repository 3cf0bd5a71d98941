// The Gaussian process: the Matern-5/2 kernel, conditioning (Cholesky with jitter), the
// marginal-likelihood grid search, posterior predictions and joint draws; expected improvement.
#include "fusenas/nas/strategy/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "cholesky.h"
#include "fusenas/engine/error.h"

namespace fusenas::nas::strategy {
namespace {

// Added to every covariance diagonal: keeps the factorisation safe when two encodings coincide
// while changing predictions by far less than any score noise (signal variance is 1).
constexpr double kJitter = 1e-8;
constexpr double kMaxJitter = 1e-2;

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(s);
}

// Checks the rows, then returns their n x n row-major distance matrix.
std::vector<double> pairwise_distances(const GaussianProcess::Matrix& x) {
  const auto n = static_cast<int64_t>(x.size());
  FUSENAS_CHECK(n >= 1, "gaussian process: no training points");
  for (int64_t i = 0; i < n; ++i) {
    FUSENAS_CHECK(x[i].size() == x[0].size(), "gaussian process: point {} has {} features, not {}",
                  i, x[i].size(), x[0].size());
  }
  std::vector<double> d(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) d[i * n + j] = d[j * n + i] = distance(x[i], x[j]);
  }
  return d;
}

// The median distance between distinct points times 2^k, k = -3..2 (1 with no distinct pair).
std::vector<double> length_scale_grid(const std::vector<double>& distances) {
  std::vector<double> d;
  for (double r : distances) {
    if (r > 0) d.push_back(r);  // each pair twice: the median is the same
  }
  double median = 1;
  if (!d.empty()) {
    std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
    median = d[d.size() / 2];
  }
  std::vector<double> grid;
  for (int k = -3; k <= 2; ++k) grid.push_back(median * std::ldexp(1.0, k));
  return grid;
}

}  // namespace

double matern52(double r, double length_scale) {
  const double t = std::sqrt(5.0) * r / length_scale;
  return (1 + t + t * t / 3) * std::exp(-t);
}

GaussianProcess::GaussianProcess(Matrix x, std::vector<double> y, const GpHyperparameters& h)
    : GaussianProcess(x, pairwise_distances(x), std::move(y), h) {}

GaussianProcess::GaussianProcess(Matrix x, const std::vector<double>& distances,
                                 std::vector<double> y, const GpHyperparameters& h)
    : x_(std::move(x)), h_(h) {
  const auto n = static_cast<int64_t>(x_.size());
  FUSENAS_CHECK(y.size() == x_.size(), "gaussian process: {} points but {} values", n, y.size());
  FUSENAS_CHECK(h.length_scale > 0 && h.noise_variance >= 0,
                "gaussian process: length scale {} must be > 0 and noise variance {} >= 0",
                h.length_scale, h.noise_variance);
  for (int64_t i = 0; i < n; ++i) {
    FUSENAS_CHECK(std::isfinite(y[i]), "gaussian process: value {} is {}", i, y[i]);
  }
  std::vector<double> k(n * n);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) k[i * n + j] = matern52(distances[i * n + j], h.length_scale);
    k[i * n + i] = 1 + h.noise_variance;
  }
  chol_ = cholesky_with_jitter(k, n, kJitter, kMaxJitter, "gaussian process");
  alpha_ = y;
  solve_lower(chol_, n, alpha_.data());
  double fit = 0;  // y^T K^-1 y = |L^-1 y|^2
  for (double v : alpha_) fit += v * v;
  solve_upper(chol_, n, alpha_.data());
  double log_det_half = 0;
  for (int64_t i = 0; i < n; ++i) log_det_half += std::log(chol_[i * n + i]);
  log_marginal_likelihood_ = -0.5 * fit - log_det_half - 0.5 * n * std::log(2 * M_PI);
}

GaussianProcess GaussianProcess::fit(Matrix x, std::vector<double> y,
                                     std::vector<double> length_scales,
                                     std::vector<double> noise_variances) {
  const std::vector<double> distances = pairwise_distances(x);
  if (length_scales.empty()) length_scales = length_scale_grid(distances);
  if (noise_variances.empty()) noise_variances = default_noise_variances();
  std::optional<GaussianProcess> best;
  for (double l : length_scales) {
    for (double noise : noise_variances) {
      GaussianProcess gp(x, distances, y, {l, noise});
      if (!best || gp.log_marginal_likelihood() > best->log_marginal_likelihood()) {
        best = std::move(gp);
      }
    }
  }
  FUSENAS_CHECK(best.has_value(), "gaussian process: empty hyperparameter grid");
  return std::move(*best);
}

std::vector<double> GaussianProcess::default_length_scales(const Matrix& x) {
  return length_scale_grid(pairwise_distances(x));
}

std::vector<double> GaussianProcess::default_noise_variances() {
  return {1e-6, 1e-4, 1e-2, 1e-1};
}

std::vector<double> GaussianProcess::cross_covariance(const std::vector<double>& x) const {
  FUSENAS_CHECK(x.size() == x_[0].size(), "gaussian process: query has {} features, not {}",
                x.size(), x_[0].size());
  std::vector<double> k(x_.size());
  for (size_t i = 0; i < x_.size(); ++i) k[i] = matern52(distance(x, x_[i]), h_.length_scale);
  return k;
}

GaussianProcess::Prediction GaussianProcess::predict(const std::vector<double>& x) const {
  std::vector<double> v = cross_covariance(x);
  double mean = 0;
  for (size_t i = 0; i < v.size(); ++i) mean += v[i] * alpha_[i];
  solve_lower(chol_, static_cast<int64_t>(v.size()), v.data());
  double explained = 0;
  for (double e : v) explained += e * e;
  return {mean, std::max(0.0, 1 - explained)};
}

std::vector<double> GaussianProcess::sample(const Matrix& xs, Generator& gen) const {
  const auto n = static_cast<int64_t>(x_.size());
  const auto m = static_cast<int64_t>(xs.size());
  std::vector<double> mean(m);
  std::vector<std::vector<double>> v(m);  // L^-1 k(X, xs_j)
  for (int64_t j = 0; j < m; ++j) {
    v[j] = cross_covariance(xs[j]);
    for (int64_t i = 0; i < n; ++i) mean[j] += v[j][i] * alpha_[i];
    solve_lower(chol_, n, v[j].data());
  }
  std::vector<double> cov(m * m);
  for (int64_t a = 0; a < m; ++a) {
    for (int64_t b = 0; b <= a; ++b) {
      double c = matern52(distance(xs[a], xs[b]), h_.length_scale);
      for (int64_t i = 0; i < n; ++i) c -= v[a][i] * v[b][i];
      cov[a * m + b] = c;
    }
  }
  // Candidates that coincide (or sit on training points) make the posterior covariance singular;
  // the jitter escalates up to the signal variance before giving up.
  const auto l = cholesky_with_jitter(cov, m, kJitter, 1.0, "gaussian process sample");
  std::vector<double> z(m);
  for (auto& e : z) e = gen.next_normal();
  std::vector<double> f = mean;
  for (int64_t a = 0; a < m; ++a) {
    for (int64_t b = 0; b <= a; ++b) f[a] += l[a * m + b] * z[b];
  }
  return f;
}

double expected_improvement(double mean, double sd, double best) {
  const double gain = mean - best;
  if (!(sd > 0)) return std::max(gain, 0.0);
  const double z = gain / sd;
  const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
  // Far below the incumbent both terms underflow towards 0 and may cancel to a tiny negative.
  return std::max(0.0, gain * cdf + sd * pdf);
}

}  // namespace fusenas::nas::strategy
