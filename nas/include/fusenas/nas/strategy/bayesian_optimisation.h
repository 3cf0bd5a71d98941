// Bayesian optimisation over a space's encodings: a Gaussian-process surrogate, expected
// improvement or Thompson sampling, maximised over a pool of mutants of the best points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/strategy/strategy.h"

namespace fusenas::nas::strategy {

struct BoOptions {
  int64_t initial_random = 10;     // the first asks sample the space (the surrogate needs data)
  std::string acquisition = "ei";  // "ei" (expected improvement) | "thompson"
  // EI counts only improvements beyond the incumbent plus this, in standard deviations of the
  // scores: a little exploration, so EI does not settle next to the incumbent.
  double ei_margin = 0.01;
  int64_t parents = 10;            // best scored points the candidate pool mutates
  int64_t mutants = 200;           // pool candidates made by mutation, spread over the parents
  int64_t max_mutation_steps = 3;  // a mutant is 1..this many mutations from its parent
  int64_t random_candidates = 50;  // plus this many fresh samples (the acquisition may jump)
  // Throws naming the field of the first value out of range.
  void validate() const;
};

// initial_random = budget / 10 clamped to [5, 20]: a tenth of the budget explores at random, at
// least 5 points so that the first length-scale fit has data, at most 20 so that large budgets
// start modelling early; the rest as above.
BoOptions default_bo_options(int64_t budget_trials);

// Each ask after the first initial_random ones (and once at least two trials have scores): fits
// the GP (GaussianProcess::fit: Matern-5/2, length scale and noise by marginal likelihood) to the
// encodings of the scored trials with standardised scores, builds the candidate pool, drops
// candidates already evaluated or pending, and proposes the pool's best by the acquisition.
// Failed trials stay out of the surrogate (they have no score to fit) and are not proposed again.
class BayesianOptimisation : public Strategy {
 public:
  BayesianOptimisation(const space::Space& space, uint64_t seed, const BoOptions& options);
  std::string name() const override { return "bo"; }
  const BoOptions& options() const { return options_; }

 protected:
  space::Point propose(Generator& gen) override;
  void observed(const Observation& o) override;

 private:
  // Each scored observation's place in history() and its encoding, computed once when told.
  struct Scored {
    size_t index;
    std::vector<double> encoding;
  };

  space::Point sample_unseen(Generator& gen) const;
  std::vector<space::Point> candidate_pool(const std::vector<const Scored*>& ranked,
                                           Generator& gen) const;

  BoOptions options_;
  std::vector<Scored> scored_;
};

}  // namespace fusenas::nas::strategy
