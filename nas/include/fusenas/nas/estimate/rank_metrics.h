// Rank agreement between an estimator's scores and the true (fully trained) ones: Kendall tau-b,
// Spearman rho and top-k recall, the columns of the performance-estimation table.
#pragma once

#include <cstdint>
#include <span>

namespace fusenas::nas::estimate {

// All three take two equally long sequences of at least two finite values (higher is better in
// both) and throw fusenas::Error otherwise.

// Kendall's tau-b: (concordant - discordant) / sqrt((n0 - t_x) (n0 - t_y)), n0 = n (n - 1) / 2,
// where t_x and t_y count the pairs tied in x and in y. A pair tied in both counts in both.
// NaN when x or y is constant (the denominator is 0), as in scipy.stats.kendalltau.
double kendall_tau(std::span<const double> x, std::span<const double> y);

// Spearman's rho: the Pearson correlation of the ranks, tied values getting the average of the
// ranks they span. NaN when x or y is constant.
double spearman_rho(std::span<const double> x, std::span<const double> y);

// The share of the true top k (by `truth`) that is also in the predicted top k (by `predicted`),
// in [0, 1]. Ties at the k-th place are broken by the smaller index, so the sets always have
// exactly k members. Throws fusenas::Error unless 1 <= k <= n.
double top_k_recall(std::span<const double> predicted, std::span<const double> truth, int64_t k);

}  // namespace fusenas::nas::estimate
