// Learning-curve families, their bounded Levenberg-Marquardt fits, the BIC-weighted ensemble
// prediction and the pruning rule.
#include "fusenas/nas/estimate/curve_extrapolation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "fusenas/engine/error.h"

namespace fusenas::nas::estimate {
namespace {

constexpr int kMaxParams = 4;
constexpr double kInf = std::numeric_limits<double>::infinity();
using Params = std::array<double, kMaxParams>;

// A parameter's box; `log` ones are optimised as log(theta) (rates and scales span orders of
// magnitude, and LM steps in log space keep them positive and well scaled).
struct Bound {
  double lo, hi;
  bool log;
};

struct Family {
  const char* name;
  std::vector<Bound> bounds;
  double (*f)(double x, const double* t);
  // Data-driven starting points from the first value y0, the last value yk and k.
  std::vector<Params> (*starts)(double y0, double yk, double k);
};

// The asymptote a start assumes: a little above the last value, at most 1.
double start_top(double yk) {
  return std::min(1.0, yk + 0.05);
}

const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {"vapor_pressure",
       {{-10, 0.5, false}, {-10, 0, false}, {-1, 1, false}},
       [](double x, const double* t) { return std::exp(t[0] + t[1] / x + t[2] * std::log(x)); },
       [](double y0, double yk, double) {
         const double a = std::log(std::max(yk + 0.02, 1e-3));
         return std::vector<Params>{{a, std::log(std::max(y0, 1e-3)) - a, 0, 0}};
       }},
      {"pow3",
       {{0, 1, false}, {1e-4, 10, true}, {1e-3, 5, true}},
       [](double x, const double* t) { return t[0] - t[1] * std::pow(x, -t[2]); },
       [](double y0, double yk, double) {
         const double c = start_top(yk), a = std::max(1e-3, c - y0);
         return std::vector<Params>{{c, a, 0.5, 0}, {c, a, 1, 0}, {c, a, 2, 0}};
       }},
      {"log_log_linear",
       {{1e-5, 10, true}, {1, std::exp(1.0), false}},
       [](double x, const double* t) { return std::log(t[0] * std::log(x) + t[1]); },
       [](double y0, double yk, double k) {
         const double b = std::clamp(std::exp(y0), 1.0, std::exp(1.0));
         return std::vector<Params>{{std::max(1e-4, (std::exp(yk) - b) / std::log(k)), b, 0, 0}};
       }},
      {"hill3",
       {{0, 1, false}, {0.05, 10, true}, {1e-3, 1e3, true}},
       // y_max x^eta / (kappa^eta + x^eta), written to avoid overflowing x^eta.
       [](double x, const double* t) { return t[0] / (1 + std::pow(t[2] / x, t[1])); },
       [](double y0, double yk, double) {
         const double top = start_top(yk), r = std::max(1e-3, top / std::max(y0, 1e-3) - 1);
         return std::vector<Params>{{top, 1, r, 0}, {top, 2, std::sqrt(r), 0}};
       }},
      {"log_power",
       // a / (1 + (x / e^b)^c) with c < 0, stored as t[2] = -c > 0.
       {{0, 1, false}, {-10, 20, false}, {1e-3, 10, true}},
       [](double x, const double* t) {
         return t[0] / (1 + std::exp(-t[2] * (std::log(x) - t[1])));
       },
       [](double y0, double yk, double) {
         const double a = start_top(yk), l = std::log(std::max(1e-3, a / std::max(y0, 1e-3) - 1));
         return std::vector<Params>{{a, l, 1, 0}, {a, l / 2, 2, 0}};
       }},
      {"pow4",
       {{0, 1, false}, {1e-4, 10, true}, {0, 10, false}, {1e-3, 5, true}},
       [](double x, const double* t) { return t[0] - std::pow(t[1] * x + t[2], -t[3]); },
       [](double y0, double yk, double) {
         const double c = start_top(yk), gap = std::max(1e-3, c - y0);
         // c - a^-alpha = y0 at x = 1 with b = 0.
         return std::vector<Params>{{c, std::pow(gap, -2.0), 0, 0.5}, {c, 1 / gap, 0, 1}};
       }},
      {"mmf",
       // alpha - (alpha - beta) / (1 + (kappa x)^delta), t[1] = alpha - beta > 0.
       {{0, 1, false}, {1e-4, 2, true}, {1e-4, 10, true}, {0.05, 5, true}},
       [](double x, const double* t) { return t[0] - t[1] / (1 + std::pow(t[2] * x, t[3])); },
       [](double y0, double yk, double) {
         const double a = start_top(yk), gap = std::max(1e-3, a - y0);
         return std::vector<Params>{{a, gap * 1.1, 0.1, 1}, {a, gap * 1.5, 0.5, 1}};
       }},
      {"exp3",
       {{0, 1, false}, {1e-4, 5, true}, {-20, 5, false}},
       [](double x, const double* t) { return t[0] - std::exp(-t[1] * x + t[2]); },
       [](double y0, double yk, double) {
         const double c = start_top(yk), l = std::log(std::max(1e-3, c - y0));
         return std::vector<Params>{
             {c, 0.05, l + 0.05, 0}, {c, 0.2, l + 0.2, 0}, {c, 0.5, l + 0.5, 0}};
       }},
      {"exp4",
       {{0, 1, false}, {1e-4, 5, true}, {-20, 5, false}, {0.05, 3, true}},
       [](double x, const double* t) { return t[0] - std::exp(-t[1] * std::pow(x, t[3]) + t[2]); },
       [](double y0, double yk, double) {
         const double c = start_top(yk), l = std::log(std::max(1e-3, c - y0));
         return std::vector<Params>{{c, 0.2, l + 0.2, 1}, {c, 0.5, l + 0.5, 0.5}};
       }},
      {"janoschek",
       // alpha - (alpha - beta) exp(-kappa x^delta), t[1] = alpha - beta > 0.
       {{0, 1, false}, {1e-4, 2, true}, {1e-4, 10, true}, {0.05, 5, true}},
       [](double x, const double* t) { return t[0] - t[1] * std::exp(-t[2] * std::pow(x, t[3])); },
       [](double y0, double yk, double) {
         const double a = start_top(yk), gap = std::max(1e-3, a - y0);
         return std::vector<Params>{{a, std::min(2.0, gap * std::exp(0.1)), 0.1, 1},
                                    {a, std::min(2.0, gap * std::exp(0.5)), 0.5, 1}};
       }},
      {"weibull",
       // alpha - (alpha - beta) exp(-(kappa x)^delta), t[1] = alpha - beta > 0.
       {{0, 1, false}, {1e-4, 2, true}, {1e-4, 10, true}, {0.05, 5, true}},
       [](double x, const double* t) { return t[0] - t[1] * std::exp(-std::pow(t[2] * x, t[3])); },
       [](double y0, double yk, double) {
         const double a = start_top(yk), gap = std::max(1e-3, a - y0);
         return std::vector<Params>{{a, std::min(2.0, gap * std::exp(0.1)), 0.1, 1},
                                    {a, std::min(2.0, gap * std::exp(0.5)), 0.5, 1}};
       }},
      {"ilog2",
       {{0, 1, false}, {1e-4, 10, true}},
       [](double x, const double* t) { return t[0] - t[1] / std::log(x + 1); },
       [](double y0, double yk, double k) {
         // Through the first and the last point.
         const double a = std::max(1e-4, (yk - y0) / (1 / std::log(2.0) - 1 / std::log(k + 1)));
         return std::vector<Params>{{yk + a / std::log(k + 1), a, 0, 0}};
       }},
  };
  return all;
}

// splitmix64: a fixed, portable stream for the random starts (std:: distributions differ
// between standard libraries, and the starts decide which local optimum a fit lands in).
struct Rng {
  uint64_t state;
  double uniform() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }
};

// Solves the p x p system a x = b (row-major) by Gaussian elimination with partial pivoting;
// false when it is singular. p <= 4, so nothing cleverer pays.
bool solve(std::vector<double> a, std::vector<double> b, int p, std::vector<double>& x) {
  for (int c = 0; c < p; ++c) {
    int piv = c;
    for (int r = c + 1; r < p; ++r) {
      if (std::abs(a[r * p + c]) > std::abs(a[piv * p + c])) piv = r;
    }
    if (!(std::abs(a[piv * p + c]) > 1e-300)) return false;
    if (piv != c) {
      for (int j = 0; j < p; ++j) std::swap(a[c * p + j], a[piv * p + j]);
      std::swap(b[c], b[piv]);
    }
    for (int r = c + 1; r < p; ++r) {
      const double m = a[r * p + c] / a[c * p + c];
      for (int j = c; j < p; ++j) a[r * p + j] -= m * a[c * p + j];
      b[r] -= m * b[c];
    }
  }
  x.assign(p, 0);
  for (int r = p - 1; r >= 0; --r) {
    double s = b[r];
    for (int j = r + 1; j < p; ++j) s -= a[r * p + j] * x[j];
    x[r] = s / a[r * p + r];
  }
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

// One family fitted to one curve, in the optimiser's coordinates u (log(theta) for log params).
class Fitter {
 public:
  Fitter(const Family& fam, std::span<const double> y) : fam_(fam), y_(y) {
    p_ = static_cast<int>(fam.bounds.size());
    for (int j = 0; j < p_; ++j) {
      const Bound& b = fam.bounds[j];
      lo_[j] = b.log ? std::log(b.lo) : b.lo;
      hi_[j] = b.log ? std::log(b.hi) : b.hi;
    }
  }

  int p() const { return p_; }

  Params theta(const Params& u) const {
    Params t{};
    for (int j = 0; j < p_; ++j) t[j] = fam_.bounds[j].log ? std::exp(u[j]) : u[j];
    return t;
  }
  Params to_u(const Params& t) const {
    Params u{};
    for (int j = 0; j < p_; ++j) {
      const double v = fam_.bounds[j].log ? std::log(std::max(t[j], 1e-300)) : t[j];
      u[j] = std::clamp(std::isfinite(v) ? v : lo_[j], lo_[j], hi_[j]);
    }
    return u;
  }
  Params random_u(Rng& rng) const {
    Params u{};
    for (int j = 0; j < p_; ++j) u[j] = lo_[j] + (hi_[j] - lo_[j]) * rng.uniform();
    return u;
  }

  double value(const Params& u, double x) const {
    const Params t = theta(u);
    return fam_.f(x, t.data());
  }

  double rss(const Params& u) const {
    const Params t = theta(u);
    double s = 0;
    for (size_t i = 0; i < y_.size(); ++i) {
      const double r = y_[i] - fam_.f(static_cast<double>(i + 1), t.data());
      s += r * r;
    }
    return std::isfinite(s) ? s : kInf;
  }

  // d value(u, x) / du_j by forward differences, stepping inwards at an upper bound.
  Params gradient(const Params& u, double x) const {
    Params g{};
    const double f0 = value(u, x);
    for (int j = 0; j < p_; ++j) {
      double h = 1e-6 * std::max(1.0, std::abs(u[j]));
      if (u[j] + h > hi_[j]) h = -h;
      Params v = u;
      v[j] += h;
      const double d = (value(v, x) - f0) / h;
      g[j] = std::isfinite(d) ? d : 0;
    }
    return g;
  }

  // J^T J over the k points, restricted to the parameters in `free` (row-major, |free|^2), and
  // J^T r into `jtr` when given. The Jacobian is built a column at a time (the same forward
  // differences as gradient()), so each perturbed parameter vector is mapped back from log space
  // once rather than once per point.
  std::vector<double> normal_matrix(const Params& u, const std::vector<int>& free,
                                    std::vector<double>* jtr) const {
    const int q = static_cast<int>(free.size());
    const size_t k = y_.size();
    std::vector<double> f0(k), jac(q * k);
    const Params t0 = theta(u);
    for (size_t i = 0; i < k; ++i) f0[i] = fam_.f(static_cast<double>(i + 1), t0.data());
    for (int c = 0; c < q; ++c) {
      const int j = free[c];
      double h = 1e-6 * std::max(1.0, std::abs(u[j]));
      if (u[j] + h > hi_[j]) h = -h;
      Params v = u;
      v[j] += h;
      const Params t = theta(v);
      for (size_t i = 0; i < k; ++i) {
        const double d = (fam_.f(static_cast<double>(i + 1), t.data()) - f0[i]) / h;
        jac[c * k + i] = std::isfinite(d) ? d : 0;
      }
    }
    std::vector<double> a(q * q, 0);
    for (int c = 0; c < q; ++c) {
      for (int d = 0; d <= c; ++d) {
        double sum = 0;
        for (size_t i = 0; i < k; ++i) sum += jac[c * k + i] * jac[d * k + i];
        a[c * q + d] = a[d * q + c] = sum;
      }
    }
    if (jtr) {
      jtr->assign(q, 0);
      for (int c = 0; c < q; ++c) {
        for (size_t i = 0; i < k; ++i) (*jtr)[c] += jac[c * k + i] * (y_[i] - f0[i]);
      }
    }
    return a;
  }

  // Bounded Levenberg-Marquardt from u (projected onto the box after every step); returns the
  // final residual sum of squares and leaves the optimum in u.
  double levenberg_marquardt(Params& u, int max_iterations) const {
    std::vector<int> all(p_);
    for (int j = 0; j < p_; ++j) all[j] = j;
    double s = rss(u);
    if (!std::isfinite(s)) return kInf;
    double lambda = 1e-3;
    for (int it = 0; it < max_iterations; ++it) {
      std::vector<double> jtr;
      const std::vector<double> a = normal_matrix(u, all, &jtr);
      bool improved = false;
      while (lambda < 1e12) {
        // Marquardt's scaling by diag(J^T J), floored so a parameter without effect still gets
        // a finite step size.
        std::vector<double> m = a;
        double max_diag = 0;
        for (int j = 0; j < p_; ++j) max_diag = std::max(max_diag, a[j * p_ + j]);
        for (int j = 0; j < p_; ++j) {
          m[j * p_ + j] += lambda * std::max(a[j * p_ + j], 1e-9 * max_diag + 1e-30);
        }
        std::vector<double> step;
        if (solve(m, jtr, p_, step)) {
          Params v = u;
          for (int j = 0; j < p_; ++j) v[j] = std::clamp(u[j] + step[j], lo_[j], hi_[j]);
          const double sv = rss(v);
          if (sv < s) {
            const double gain = (s - sv) / std::max(s, 1e-300);
            u = v;
            s = sv;
            lambda = std::max(lambda * 0.3, 1e-12);
            improved = true;
            if (gain < 1e-10) return s;
            break;
          }
        }
        lambda *= 10;
      }
      if (!improved) break;
    }
    return s;
  }

  // Which parameters are strictly inside their box (the delta method treats the others as
  // fixed: a bound is a constraint, not an estimate with a variance).
  std::vector<int> free_params(const Params& u) const {
    std::vector<int> free;
    for (int j = 0; j < p_; ++j) {
      const double margin = 1e-6 * (hi_[j] - lo_[j]);
      if (u[j] > lo_[j] + margin && u[j] < hi_[j] - margin) free.push_back(j);
    }
    return free;
  }

 private:
  const Family& fam_;
  std::span<const double> y_;
  int p_ = 0;
  Params lo_{}, hi_{};
};

// The paper's constraints on [1, m]: finite, non-decreasing, and f(m) in [0, 1]. Checked on
// every epoch (or 4000 points spread over [1, m] for a very long horizon).
bool obeys_constraints(const Fitter& fit, const Params& u, int64_t m) {
  const int64_t points = std::min<int64_t>(m, 4000);
  double prev = -kInf;
  for (int64_t i = 0; i < points; ++i) {
    const double x =
        points == 1 ? 1.0 : 1 + static_cast<double>(m - 1) * static_cast<double>(i) / (points - 1);
    const double v = fit.value(u, x);
    if (!std::isfinite(v) || v < prev - 1e-9) return false;
    prev = v;
  }
  return prev >= 0 && prev <= 1 + 1e-9;
}

double normal_sf(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

void check_curve(std::span<const double> curve, int64_t m) {
  FUSENAS_CHECK(curve.size() >= 3,
                "curve extrapolation needs at least 3 epochs of the curve, got {}", curve.size());
  FUSENAS_CHECK(m >= 1, "curve extrapolation: the epoch to predict must be >= 1, got {}", m);
  for (size_t i = 0; i < curve.size(); ++i) {
    FUSENAS_CHECK(std::isfinite(curve[i]) && curve[i] >= 0 && curve[i] <= 1,
                  "curve extrapolation: epoch {} has {}; values must be accuracies in [0, 1]",
                  i + 1, curve[i]);
  }
}

}  // namespace

std::vector<std::string> curve_families() {
  std::vector<std::string> out;
  for (const Family& f : families()) out.emplace_back(f.name);
  return out;
}

double CurvePrediction::probability_above(double threshold) const {
  if (fits.empty()) return std::clamp(normal_sf((threshold - mean) / std), 0.0, 1.0);
  double p = 0;
  for (const FamilyFit& f : fits) p += f.weight * normal_sf((threshold - f.mean) / f.std);
  return std::clamp(p, 0.0, 1.0);
}

CurvePrediction extrapolate_curve(std::span<const double> curve, int64_t m,
                                  const CurveOptions& options) {
  check_curve(curve, m);
  FUSENAS_CHECK(options.min_noise_std > 0 && options.random_starts >= 0 &&
                    options.max_iterations >= 1 && options.weight_temperature > 0,
                "curve extrapolation: bad options (min_noise_std {}, random_starts {}, "
                "max_iterations {}, weight_temperature {})",
                options.min_noise_std, options.random_starts, options.max_iterations,
                options.weight_temperature);
  std::vector<const Family*> chosen;
  for (const Family& f : families()) {
    if (options.families.empty() || std::find(options.families.begin(), options.families.end(),
                                              f.name) != options.families.end()) {
      chosen.push_back(&f);
    }
  }
  for (const std::string& name : options.families) {
    FUSENAS_CHECK(
        std::any_of(chosen.begin(), chosen.end(), [&](const Family* f) { return name == f->name; }),
        "curve extrapolation: unknown curve family '{}'", name);
  }

  CurvePrediction out;
  out.epoch = m;
  const auto [lo_it, hi_it] = std::minmax_element(curve.begin(), curve.end());
  if (*hi_it - *lo_it <= 1e-12) {
    // Nothing to extrapolate from (and every family's fit is degenerate): it stays where it is.
    out.mean = curve.back();
    out.std = options.min_noise_std;
    return out;
  }

  const auto k = static_cast<double>(curve.size());
  const double floor_var = options.min_noise_std * options.min_noise_std;
  Rng rng{options.seed};
  for (const Family* fam : chosen) {
    Fitter fit(*fam, curve);
    const int p = fit.p();
    // Needs a residual degree of freedom for the noise estimate.
    if (static_cast<double>(p) >= k) continue;
    std::vector<Params> starts;
    for (const Params& t : fam->starts(curve.front(), curve.back(), k))
      starts.push_back(fit.to_u(t));
    for (int i = 0; i < options.random_starts; ++i) starts.push_back(fit.random_u(rng));
    Params best{};
    double best_rss = kInf;
    for (Params u : starts) {
      const double s = fit.levenberg_marquardt(u, options.max_iterations);
      // Keep the best start that also obeys the constraints: an unconstrained better fit that
      // turns down before m is exactly what the paper's prior rules out.
      if (s < best_rss && obeys_constraints(fit, u, m)) {
        best_rss = s;
        best = u;
      }
    }
    if (!std::isfinite(best_rss)) continue;

    FamilyFit ff;
    ff.family = fam->name;
    const Params theta = fit.theta(best);
    ff.params.assign(theta.begin(), theta.begin() + p);
    ff.rss = best_rss;
    const double var = std::max(best_rss / (k - p), floor_var);
    ff.noise_std = std::sqrt(var);
    ff.bic = k * std::log(std::max(best_rss / k, floor_var)) + p * std::log(k);
    ff.mean = fit.value(best, static_cast<double>(m));
    // Delta method over the free parameters: Var f(m) ~ sigma^2 g^T (J^T J)^-1 g. A tiny ridge
    // keeps nearly unidentifiable directions (common with 4 parameters on a short prefix)
    // solvable; they then show up as a large variance, which is the honest answer.
    const std::vector<int> free = fit.free_params(best);
    double param_var = 0;
    if (!free.empty()) {
      const int q = static_cast<int>(free.size());
      std::vector<double> a = fit.normal_matrix(best, free, nullptr);
      double trace = 0;
      for (int j = 0; j < q; ++j) trace += a[j * q + j];
      for (int j = 0; j < q; ++j) a[j * q + j] += 1e-10 * trace / q + 1e-300;
      const Params g_all = fit.gradient(best, static_cast<double>(m));
      std::vector<double> g(q), z;
      for (int j = 0; j < q; ++j) g[j] = g_all[free[j]];
      if (solve(a, g, q, z)) {
        for (int j = 0; j < q; ++j) param_var += g[j] * z[j];
        param_var *= var;
      } else {
        param_var = 1;
      }
    }
    // A std beyond 1 says nothing more about an accuracy in [0, 1]; the cap keeps the mixture's
    // moments finite.
    ff.std = std::min(std::sqrt(var + std::max(param_var, 0.0)), 1.0);
    out.fits.push_back(std::move(ff));
  }

  if (out.fits.empty()) {
    out.fallback = true;
    out.mean = *hi_it;
    out.std = 1;
    return out;
  }
  const double min_bic =
      std::min_element(out.fits.begin(), out.fits.end(), [](const auto& a, const auto& b) {
        return a.bic < b.bic;
      })->bic;
  double total = 0;
  for (FamilyFit& f : out.fits)
    total += f.weight = std::exp(-(f.bic - min_bic) / (2 * options.weight_temperature));
  for (FamilyFit& f : out.fits) f.weight /= total;
  std::stable_sort(out.fits.begin(), out.fits.end(),
                   [](const FamilyFit& a, const FamilyFit& b) { return a.weight > b.weight; });
  for (const FamilyFit& f : out.fits) out.mean += f.weight * f.mean;
  double var = 0;
  for (const FamilyFit& f : out.fits) {
    var += f.weight * (f.std * f.std + (f.mean - out.mean) * (f.mean - out.mean));
  }
  out.std = std::sqrt(var);
  return out;
}

double probability_of_exceeding(std::span<const double> curve, int64_t m, double threshold,
                                const CurveOptions& options) {
  return extrapolate_curve(curve, m, options).probability_above(threshold);
}

PruneDecision should_prune(std::span<const double> curve, int64_t m, double incumbent,
                           double min_probability, const CurveOptions& options) {
  FUSENAS_CHECK(min_probability >= 0 && min_probability <= 1,
                "should_prune: min_probability must be in [0, 1], got {}", min_probability);
  PruneDecision d;
  d.prediction = extrapolate_curve(curve, m, options);
  d.probability = d.prediction.probability_above(incumbent);
  d.prune = d.probability < min_probability;
  return d;
}

}  // namespace fusenas::nas::estimate
