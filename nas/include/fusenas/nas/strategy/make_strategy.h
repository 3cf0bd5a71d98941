// Strategies by name ("random", "evolution", "bo", "reference", "rl"), with their defaults scaled
// to the budget.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/strategy/bayesian_optimisation.h"
#include "fusenas/nas/strategy/evolution.h"
#include "fusenas/nas/strategy/reinforce_strategy.h"
#include "fusenas/nas/strategy/strategy.h"

namespace fusenas::nas::strategy {

struct StrategyOptions {
  int64_t budget_trials = 100;                // scales the defaults of the options left unset
  std::optional<EvolutionOptions> evolution;  // unset: default_evolution_options(budget_trials)
  std::optional<BoOptions> bo;                // unset: default_bo_options(budget_trials)
  std::string reference;        // "reference": the run folder whose done trials it replays
  std::optional<RlOptions> rl;  // unset: RlOptions{} with default_rl_children(budget_trials)
};

// The known names, in the order they are listed in messages and help.
const std::vector<std::string>& strategy_names();

// Throws fusenas::Error naming the known strategies for an unknown `name`, and the field for
// invalid options. The space must outlive the strategy.
std::unique_ptr<Strategy> make_strategy(const std::string& name, const space::Space& space,
                                        uint64_t seed, const StrategyOptions& options = {});

}  // namespace fusenas::nas::strategy
