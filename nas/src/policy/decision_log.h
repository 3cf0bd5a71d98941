// DecisionLog: the per-decision bookkeeping of an autoregressive controller (the ENAS controller,
// Zoph & Le's RNN controller): draw or force each choice, and sum the log-probabilities and
// entropies that REINFORCE differentiates.
#pragma once

#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::nas::policy {

class DecisionLog {
 public:
  // With a generator, choices are drawn (one uniform number per categorical decision, one per
  // Bernoulli bit); without one, they are forced (replaying a given architecture).
  explicit DecisionLog(Generator* gen) : gen_(gen) {}

  bool sampling() const { return gen_ != nullptr; }
  // logits [1, K]; `forced` is read only when replaying and must lie in 0..K-1.
  int categorical(const Tensor& logits, int forced, const char* what);
  // One independent two-way decision per row of logits [n, 2] (column 1 = "yes"). Returns the
  // bits and, in `log_p_out`, the [n, 2] log-probabilities. `forced` is read only when replaying.
  std::vector<bool> bernoulli(const Tensor& logits, const std::vector<bool>* forced,
                              Tensor& log_p_out);

  // 0-d sums over every decision so far (0 when there was none).
  Tensor log_prob(const TensorOptions& options) const;
  Tensor entropy(const TensorOptions& options) const;

 private:
  Generator* gen_;
  std::vector<Tensor> log_probs_, entropies_;
};

}  // namespace fusenas::nas::policy
