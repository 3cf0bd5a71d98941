// The strategy factory: names to classes, unset options to their budget-scaled defaults.
#include "fusenas/nas/strategy/make_strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/zoph_le_space.h"
#include "fusenas/nas/strategy/random_search.h"
#include "fusenas/nas/strategy/reference_replay.h"

namespace fusenas::nas::strategy {

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random", "evolution", "bo", "reference", "rl"};
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
  if (name == "rl") {
    const auto* zl = dynamic_cast<const space::ZophLeSpace*>(&space);
    FUSENAS_CHECK(zl != nullptr,
                  "strategy 'rl' is Zoph & Le's controller, which writes zoph-le networks, not "
                  "points of the {} space",
                  space.name());
    RlOptions rl = options.rl ? *options.rl : RlOptions{};
    if (!options.rl) rl.children_per_step = default_rl_children(options.budget_trials);
    const space::ZophLeOptions& o = zl->options();
    rl.controller.choices = {o.layers, o.heights, o.widths, o.filters, o.strides};
    return std::make_unique<ReinforceStrategy>(space, seed, rl);
  }
  FUSENAS_FAIL("unknown strategy '{}' (known: {})", name, fmt::join(strategy_names(), ", "));
}

}  // namespace fusenas::nas::strategy
