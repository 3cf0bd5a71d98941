// Learning-curve extrapolation after Domhan et al. 2015: fit parametric curve families to the
// first k epochs of a validation-accuracy curve, predict the accuracy at a later epoch with an
// uncertainty, and decide whether to stop (prune) a trial that will likely not beat the incumbent.
//
// The model. x = 1..k are epochs and y_x in [0, 1] the validation accuracies. Each family f_j
// (table below; the paper's 11 plus exp3) is fitted by bounded Levenberg-Marquardt from several
// starting points (data-driven ones plus seeded random ones) and kept only if the fit obeys the
// paper's constraints on [1, m]: finite, non-decreasing, and 0 <= f(m) <= 1.
//
// The ensemble (a documented approximation of the paper's MCMC over a weighted combination):
// instead of sampling weights and parameters, each kept family j gets
//   - a weight w_j proportional to exp(-BIC_j / (2 T)), BIC_j = k ln(RSS_j / k) + p_j ln k. With
//     T = 1 that is the BIC (Laplace) approximation of the family's posterior probability under
//     equal priors. The default T = 2 flattens it (a tempered or "power" posterior, the usual
//     remedy when no candidate model is exactly right and residuals are not i.i.d.): with T = 1 a
//     family that fits the prefix's noise slightly better takes nearly all the weight, and the
//     prediction became overconfident (|error| / std up to 3.7 at k = 20 on synthetic curves
//     during development, against 1.9 with T = 2; the errors themselves barely changed);
//   - a Gaussian predictive N(mu_j, s_j^2) at epoch m with mu_j = f_j(m) and
//     s_j^2 = sigma_j^2 + g^T Cov g: the residual noise sigma_j^2 = RSS_j / (k - p_j) plus the
//     parameter uncertainty by the delta method (g = df_j(m)/dtheta, Cov = sigma_j^2 (J^T J)^-1
//     over the parameters not at a bound). This term is what makes the prediction less certain
//     for a shorter prefix or a farther m.
// The prediction is the mixture sum_j w_j N(mu_j, s_j^2): its mean, its standard deviation
// (within-family variance plus the families' disagreement), and P(y_m > t) computed exactly for
// the mixture. Janoschek, Weibull and exp4 are reparametrisations of one another, as are hill3
// and log_power; like the paper, each listed family counts once, so those shapes carry a larger
// prior share.
//
// Accuracy (tests/nas/estimate_test.cpp): synthetic pow3, Janoschek, Weibull, MMF, exp4 and
// log-log-linear curves with Gaussian noise of std 0.003, predicting epochs 50 and 100. From
// k = 15 or 20 epochs the error is at most 0.06 (mean 0.013, worst 0.045 on the test's seeds,
// 0.051 on three further seeds), from k = 10 at most 0.08 (worst 0.070); every error is within
// 3 predicted standard deviations (worst 2.5). Fitting all families to one curve takes about
// 10 ms on one core.
//
// Degenerate input: fewer than 3 points, values outside [0, 1], non-finite values or m < 1 throw
// fusenas::Error. A constant curve (max - min <= 1e-12) is predicted to stay constant (std =
// min_noise_std, no fits). If no family survives the constraints, the prediction falls back to the
// curve's best value with std 1 (uninformative) and `fallback` set, so a pruning decision keeps the
// trial.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fusenas::nas::estimate {

// The parametric families (x >= 1 is the epoch; names as in the paper, Table 1):
//   vapor_pressure  exp(a + b / x + c ln x)
//   pow3            c - a x^-alpha
//   log_log_linear  ln(a ln x + b)
//   hill3           y_max x^eta / (kappa^eta + x^eta)
//   log_power       a / (1 + (x / e^b)^c), c < 0
//   pow4            c - (a x + b)^-alpha
//   mmf             alpha - (alpha - beta) / (1 + (kappa x)^delta)
//   exp3            c - exp(-a x + b)
//   exp4            c - exp(-a x^alpha + b)
//   janoschek       alpha - (alpha - beta) exp(-kappa x^delta)
//   weibull         alpha - (alpha - beta) exp(-(kappa x)^delta)
//   ilog2           c - a / ln(x + 1)   (x + 1 so that epoch 1 is finite)
// Parameter bounds keep every family increasing (e.g. a, alpha > 0 in pow3; alpha > beta in the
// sigmoidal ones) and the asymptotes at or below 1.
std::vector<std::string> curve_families();

struct CurveOptions {
  // Which families to fit; empty means all of curve_families(). Unknown names throw.
  std::vector<std::string> families;
  // Seeded random starts per family, in addition to the data-driven ones.
  int random_starts = 4;
  int max_iterations = 150;
  uint64_t seed = 0x5eed;
  // T in the weights exp(-BIC / (2 T)); see above.
  double weight_temperature = 2;
  // Floor on every family's residual noise std (and the std of a constant curve): validation
  // accuracies are measured on finite sets, and a zero residual would give a zero-width
  // prediction and an infinite BIC weight.
  double min_noise_std = 1e-3;
};

struct FamilyFit {
  std::string family;
  // In the order of the formula above, except that mmf, janoschek and weibull store
  // alpha - beta (> 0) as their second parameter and log_power stores -c (> 0) as its third.
  std::vector<double> params;
  double rss = 0;        // residual sum of squares over the k points
  double noise_std = 0;  // sigma_j
  double bic = 0;
  double weight = 0;  // in the ensemble; the kept fits' weights sum to 1
  double mean = 0;    // f_j(m)
  double std = 0;     // s_j: noise and parameter uncertainty at m
};

struct CurvePrediction {
  int64_t epoch = 0;  // m
  double mean = 0;
  double std = 0;
  std::vector<FamilyFit> fits;  // the kept families, largest weight first
  bool fallback = false;        // no family fitted (see above)
  // P(y_m > threshold) under the mixture (or N(mean, std^2) when there are no fits).
  double probability_above(double threshold) const;
};

// Fits the families to `curve` (y at epochs 1..k) and predicts epoch m.
CurvePrediction extrapolate_curve(std::span<const double> curve, int64_t m,
                                  const CurveOptions& options = {});

// P(y_m > threshold) for the curve's prediction.
double probability_of_exceeding(std::span<const double> curve, int64_t m, double threshold,
                                const CurveOptions& options = {});

struct PruneDecision {
  bool prune = false;
  double probability = 1;  // P(y_m > incumbent)
  CurvePrediction prediction;
};

// Whether to stop a trial after its first k epochs: prune when the probability that its accuracy
// at epoch m beats `incumbent` (the best final accuracy so far) is below `min_probability` (0.05
// in the paper).
PruneDecision should_prune(std::span<const double> curve, int64_t m, double incumbent,
                           double min_probability = 0.05, const CurveOptions& options = {});

}  // namespace fusenas::nas::estimate
