// Kendall tau-b, Spearman rho (average ranks) and top-k recall.
#include "fusenas/nas/estimate/rank_metrics.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>
#include <vector>

#include "fusenas/engine/error.h"

namespace fusenas::nas::estimate {
namespace {

void check_pair(std::span<const double> x, std::span<const double> y, const char* what) {
  FUSENAS_CHECK(x.size() == y.size(), "{}: the sequences differ in length ({} vs {})", what,
                x.size(), y.size());
  FUSENAS_CHECK(x.size() >= 2, "{}: needs at least 2 points, got {}", what, x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    FUSENAS_CHECK(std::isfinite(x[i]) && std::isfinite(y[i]), "{}: point {} is not finite", what,
                  i);
  }
}

// 1-based ranks (ascending), ties sharing the mean of the ranks they occupy.
std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double mean = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = mean;
    i = j + 1;
  }
  return rank;
}

// The indices of the k largest values, ties broken by the smaller index.
std::vector<size_t> top_indices(std::span<const double> v, int64_t k) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] > v[b]; });
  order.resize(static_cast<size_t>(k));
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

double kendall_tau(std::span<const double> x, std::span<const double> y) {
  check_pair(x, y, "kendall_tau");
  // O(n^2) pair loop: the reference sets have tens to hundreds of architectures, and integer
  // counts keep the result exact (no merge-sort bookkeeping for ties to get wrong).
  int64_t concordant = 0, discordant = 0, tied_x = 0, tied_y = 0;
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0) ++tied_x;
      if (dy == 0) ++tied_y;
      if (dx == 0 || dy == 0) continue;
      if ((dx > 0) == (dy > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const auto n0 = static_cast<int64_t>(n * (n - 1) / 2);
  const double denom =
      std::sqrt(static_cast<double>(n0 - tied_x)) * std::sqrt(static_cast<double>(n0 - tied_y));
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(concordant - discordant) / denom;
}

double spearman_rho(std::span<const double> x, std::span<const double> y) {
  check_pair(x, y, "spearman_rho");
  const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
  // Both rank vectors have mean (n + 1) / 2; the Pearson formula (not 1 - 6 sum d^2 / ...)
  // stays exact with ties.
  const double mean = (static_cast<double>(x.size()) + 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = rx[i] - mean, b = ry[i] - mean;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double top_k_recall(std::span<const double> predicted, std::span<const double> truth, int64_t k) {
  check_pair(predicted, truth, "top_k_recall");
  FUSENAS_CHECK(k >= 1 && k <= static_cast<int64_t>(truth.size()),
                "top_k_recall: k must be in [1, {}], got {}", truth.size(), k);
  const std::vector<size_t> p = top_indices(predicted, k), t = top_indices(truth, k);
  std::vector<size_t> both;
  std::set_intersection(p.begin(), p.end(), t.begin(), t.end(), std::back_inserter(both));
  return static_cast<double>(both.size()) / static_cast<double>(k);
}

}  // namespace fusenas::nas::estimate
