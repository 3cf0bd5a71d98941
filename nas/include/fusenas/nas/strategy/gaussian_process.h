// The Gaussian-process surrogate Bayesian optimisation uses: zero prior mean and unit signal
// variance (fit it on standardised scores), an isotropic Matern-5/2 kernel on encodings, Gaussian
// observation noise; and the expected-improvement acquisition.
#pragma once

#include <cstdint>
#include <vector>

#include "fusenas/engine/generator.h"

namespace fusenas::nas::strategy {

// k(r) = (1 + sqrt(5) r / l + 5 r^2 / (3 l^2)) exp(-sqrt(5) r / l): twice differentiable sample
// paths, less smooth than the RBF's, the usual choice for BO (Snoek et al. 2012).
double matern52(double distance, double length_scale);

struct GpHyperparameters {
  double length_scale = 1;
  double noise_variance = 1e-6;  // relative to the unit signal variance
};

class GaussianProcess {
 public:
  using Matrix = std::vector<std::vector<double>>;  // rows are points

  // Conditions on n >= 1 points `x` (rows of equal length) with values `y`, for fixed
  // hyperparameters. A small jitter (1e-8, escalated if needed) keeps the Cholesky safe.
  GaussianProcess(Matrix x, std::vector<double> y, const GpHyperparameters& h);

  // The grid point (every length scale with every noise variance) of highest log marginal
  // likelihood, ties to the first; empty lists take the defaults below.
  static GaussianProcess fit(Matrix x, std::vector<double> y,
                             std::vector<double> length_scales = {},
                             std::vector<double> noise_variances = {});
  // The median distance between distinct inputs times 2^k, k = -3..2: encodings differ in scale
  // (one-hot vectors, ordinals), and the median sets the scale at which points look related.
  static std::vector<double> default_length_scales(const Matrix& x);
  // 1e-6 (a deterministic objective) up to 0.1 of the variance of the standardised scores.
  static std::vector<double> default_noise_variances();

  struct Prediction {
    double mean;
    double variance;  // of the latent function, without the observation noise
  };
  Prediction predict(const std::vector<double>& x) const;
  // One draw of the latent function at all of `xs` jointly (for Thompson sampling).
  std::vector<double> sample(const Matrix& xs, Generator& gen) const;

  const GpHyperparameters& hyperparameters() const { return h_; }
  double log_marginal_likelihood() const { return log_marginal_likelihood_; }

 private:
  // `distances`: the n x n row-major distances between the rows of `x` (shared by a grid search).
  GaussianProcess(Matrix x, const std::vector<double>& distances, std::vector<double> y,
                  const GpHyperparameters& h);
  std::vector<double> cross_covariance(const std::vector<double>& x) const;

  Matrix x_;
  GpHyperparameters h_;
  std::vector<double> chol_;   // row-major lower factor of K + (noise + jitter) I
  std::vector<double> alpha_;  // (K + noise I)^-1 y
  double log_marginal_likelihood_ = 0;
};

// E[max(f - best, 0)] for f ~ N(mean, sd^2), for maximisation; max(mean - best, 0) when sd is 0.
double expected_improvement(double mean, double sd, double best);

}  // namespace fusenas::nas::strategy
