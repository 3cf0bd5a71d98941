// The strategy factory: names to classes, unset options to their budget-scaled defaults.
#include "fusenas/nas/strategy/make_strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/strategy/random_search.h"
#include "fusenas/nas/strategy/reference_replay.h"

namespace fusenas::nas::strategy {

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random", "evolution", "bo", "reference"};
  return names;
}

std::unique_ptr<Strategy> make_strategy(const std::string& name, const space::Space& space,
                                        uint64_t seed, const StrategyOptions& options) {
  if (name == "random") return std::make_unique<RandomSearch>(space, seed);
  if (name == "evolution") {
    return std::make_unique<RegularizedEvolution>(
        space, seed,
        options.evolution ? *options.evolution : default_evolution_options(options.budget_trials));
  }
  if (name == "bo") {
    return std::make_unique<BayesianOptimisation>(
        space, seed, options.bo ? *options.bo : default_bo_options(options.budget_trials));
  }
  if (name == "reference") return std::make_unique<ReferenceReplay>(space, seed, options.reference);
  FUSENAS_FAIL("unknown strategy '{}' (known: {})", name, fmt::join(strategy_names(), ", "));
}

}  // namespace fusenas::nas::strategy
