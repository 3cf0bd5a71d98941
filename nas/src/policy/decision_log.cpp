// DecisionLog: drawing or forcing a controller's choices and collecting their log-probability and
// entropy terms as differentiable engine ops.
#include "decision_log.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::policy {
namespace {

// Index of the first cumulative probability above u (the last index absorbs rounding).
int draw(const std::vector<double>& log_probs, double u) {
  double cumulative = 0.0;
  for (size_t k = 0; k < log_probs.size(); ++k) {
    cumulative += std::exp(log_probs[k]);
    if (u < cumulative) return static_cast<int>(k);
  }
  return static_cast<int>(log_probs.size()) - 1;
}

}  // namespace

int DecisionLog::categorical(const Tensor& logits, int forced, const char* what) {
  const Tensor log_p = log_softmax(logits);
  const int64_t k = logits.shape()[1];
  int choice = forced;
  if (gen_) {
    choice = draw(log_p.to_vector<double>(), gen_->next_double());
  } else {
    FUSENAS_CHECK(forced >= 0 && forced < k, "controller: {} choice {} is outside 0..{}", what,
                  forced, k - 1);
  }
  log_probs_.push_back(log_p.narrow(1, choice, 1).reshape({1}));
  entropies_.push_back(neg(sum(mul(exp(log_p), log_p), {1})));
  return choice;
}

std::vector<bool> DecisionLog::bernoulli(const Tensor& logits, const std::vector<bool>* forced,
                                         Tensor& log_p_out) {
  const Tensor log_p = log_softmax(logits);
  const int64_t n = logits.shape()[0];
  std::vector<bool> bits(static_cast<size_t>(n));
  if (gen_) {
    const std::vector<double> lp = log_p.to_vector<double>();
    for (int64_t j = 0; j < n; ++j) bits[j] = gen_->next_double() < std::exp(lp[2 * j + 1]);
  } else {
    FUSENAS_CHECK(forced && static_cast<int64_t>(forced->size()) == n,
                  "controller: {} forced bits for {} two-way decisions",
                  forced ? forced->size() : 0, n);
    bits = *forced;
  }
  std::vector<double> one_hot(static_cast<size_t>(2 * n), 0.0);
  for (int64_t j = 0; j < n; ++j) one_hot[2 * j + (bits[j] ? 1 : 0)] = 1.0;
  const Tensor mask = from_vector(one_hot, {n, 2}, log_p.options());
  log_probs_.push_back(sum(mul(log_p, mask)).reshape({1}));
  entropies_.push_back(neg(sum(mul(exp(log_p), log_p))).reshape({1}));
  log_p_out = log_p;
  return bits;
}

Tensor DecisionLog::log_prob(const TensorOptions& options) const {
  return log_probs_.empty() ? zeros({}, options) : sum(concat(log_probs_, 0));
}

Tensor DecisionLog::entropy(const TensorOptions& options) const {
  return entropies_.empty() ? zeros({}, options) : sum(concat(entropies_, 0));
}

}  // namespace fusenas::nas::policy
