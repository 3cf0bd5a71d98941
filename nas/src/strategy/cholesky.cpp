// Cholesky factorisation (row-oriented, fixed loop order) with escalating jitter, and its solves.
#include "cholesky.h"

#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas::strategy {
namespace {

bool factor(std::vector<double>& l, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double* li = &l[i * n];
    for (int64_t j = 0; j <= i; ++j) {
      const double* lj = &l[j * n];
      double s = li[j];
      for (int64_t k = 0; k < j; ++k) s -= li[k] * lj[k];
      if (j == i) {
        if (!(s > 0)) return false;  // also catches NaN
        li[i] = std::sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
    for (int64_t j = i + 1; j < n; ++j) li[j] = 0;
  }
  return true;
}

}  // namespace

std::vector<double> cholesky_with_jitter(const std::vector<double>& a, int64_t n, double jitter,
                                         double max_jitter, const char* what, double* jitter_used) {
  FUSENAS_CHECK(static_cast<int64_t>(a.size()) == n * n, "{}: matrix has {} entries, not {}^2",
                what, a.size(), n);
  FUSENAS_CHECK(jitter > 0 && max_jitter >= jitter, "{}: jitter {} and max_jitter {} are not valid",
                what, jitter, max_jitter);
  for (double j = jitter; j <= max_jitter * (1 + 1e-9); j *= 100) {
    std::vector<double> l = a;
    for (int64_t i = 0; i < n; ++i) l[i * n + i] += j;
    if (factor(l, n)) {
      if (jitter_used != nullptr) *jitter_used = j;
      return l;
    }
  }
  FUSENAS_FAIL("{}: the {}x{} covariance is not positive definite even with jitter {}", what, n, n,
               max_jitter);
}

void solve_lower(const std::vector<double>& l, int64_t n, double* b) {
  for (int64_t i = 0; i < n; ++i) {
    const double* li = &l[i * n];
    double s = b[i];
    for (int64_t k = 0; k < i; ++k) s -= li[k] * b[k];
    b[i] = s / li[i];
  }
}

void solve_upper(const std::vector<double>& l, int64_t n, double* b) {
  for (int64_t i = n - 1; i >= 0; --i) {
    double s = b[i];
    for (int64_t k = i + 1; k < n; ++k) s -= l[k * n + i] * b[k];
    b[i] = s / l[i * n + i];
  }
}

}  // namespace fusenas::nas::strategy
