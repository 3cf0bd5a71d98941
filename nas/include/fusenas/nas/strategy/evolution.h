// Regularized (aging) evolution, Real et al. 2019: tournament selection over a population that
// forgets its oldest member, with the paper's population and tournament sizes scaled to the budget.
#pragma once

#include <cstdint>
#include <deque>

#include "fusenas/nas/strategy/strategy.h"

namespace fusenas::nas::strategy {

struct EvolutionOptions {
  int64_t population = 100;  // P: the most recent scored trials that may become parents
  // S: members drawn per tournament. Distinct ones (the paper draws with replacement), so that
  // S = P always picks the best member.
  int64_t tournament = 25;
  // Throws naming the field when P < 2 or S is outside [1, P].
  void validate() const;
};

// The paper's P = 100, S = 25 are for budgets of thousands of trials; with a few dozen trials the
// population would never fill and the search would stay random. So P = budget / 5 clamped to
// [4, 100] (from 20 trials up, at most a fifth of the budget is random), and S = P / 4 (the
// paper's ratio), at least 2 so that selection still prefers the better of two. The paper's values
// return from a budget of 500 trials up.
EvolutionOptions default_evolution_options(int64_t budget_trials);

// Until P trials have scores, proposes random samples; then draws S distinct members of the
// population uniformly, mutates the best of them (one decision, Space::mutate), and each new score
// pushes the oldest member out. Failed trials never enter the population.
class RegularizedEvolution : public Strategy {
 public:
  RegularizedEvolution(const space::Space& space, uint64_t seed, const EvolutionOptions& options);
  std::string name() const override { return "evolution"; }
  const EvolutionOptions& options() const { return options_; }
  // The current population, oldest first.
  const std::deque<Observation>& population() const { return population_; }

 protected:
  space::Point propose(Generator& gen) override;
  void observed(const Observation& o) override;

 private:
  EvolutionOptions options_;
  std::deque<Observation> population_;
};

}  // namespace fusenas::nas::strategy
