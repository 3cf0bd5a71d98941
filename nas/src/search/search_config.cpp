// BlackBoxConfig and its strategy section: presets, dataset defaults, validation (the space's and
// the strategy's options included), the strategy's options and JSON.
#include "fusenas/nas/search/search_config.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/make_space.h"

namespace fusenas::nas {

// config.json's keys (docs/formats.md), flat: the sections' and the search's own. Outside an
// anonymous namespace, so that keys_to_json finds it by argument-dependent lookup.
template <SectionRef<BlackBoxConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("preset", c.preset);
  f("strategy", c.strategy.name);
  f("space", c.space);
  f("space_options", c.space_options);
  f("hpo", c.hpo);
  f("hpo_share", c.hpo_share);
  f("budget_trials", c.budget_trials);
  f("budget_minutes", c.budget_minutes);
  f("epochs", c.epochs);
  f("estimator", c.estimator.name);
  f("downscale", c.estimator.downscale);
  f("model_scale", c.estimator.model_scale);
  f("curve_min_epochs", c.estimator.curve_min_epochs);
  f("curve_threshold", c.estimator.curve_threshold);
  f("eta", c.estimator.eta);
  f("min_epochs", c.estimator.min_epochs);
  f("supernet_epochs", c.estimator.supernet_epochs);
  f("predictor", c.estimator.predictor);
  for_each_key(c.data, f);
  f("batch_size", c.batch_size);
  for_each_key(c.sgd, f);
  f("population", c.strategy.population);
  f("tournament", c.strategy.tournament);
  f("bo_init", c.strategy.bo_init);
  f("acquisition", c.strategy.acquisition);
  f("reference", c.strategy.reference);
  f("rl_children", c.strategy.rl_children);
  f("rl_lr", c.strategy.rl_lr);
  f("rl_reward", c.strategy.rl_reward);
  f("seed", c.seed);
  f("parallel", c.parallel);
  f("trial_time_limit", c.trial_time_limit);
}

void StrategySection::validate() const {
  const auto& names = strategy::strategy_names();
  FUSENAS_CHECK(std::find(names.begin(), names.end(), name) != names.end(),
                "unknown strategy '{}' (use {})", name, fmt::join(names, ", "));
  FUSENAS_CHECK(population >= 0 && tournament >= 0 && bo_init >= 0,
                "population, tournament and bo-init must be 0 (scaled default) or positive");
  FUSENAS_CHECK(acquisition == "ei" || acquisition == "thompson",
                "unknown acquisition '{}' (use ei or thompson)", acquisition);
  FUSENAS_CHECK(name != "reference" || !reference.empty(),
                "--strategy reference needs --reference <run folder> (the run whose candidates "
                "it replays)");
  FUSENAS_CHECK(name == "reference" || reference.empty(),
                "--reference is for --strategy reference only, not {}", name);
  FUSENAS_CHECK(rl_children >= 0, "rl children must be 0 (scaled default) or positive, got {}",
                rl_children);
  FUSENAS_CHECK(std::isfinite(rl_lr) && rl_lr > 0, "rl lr must be positive, got {}", rl_lr);
  strategy::parse_rl_reward(rl_reward);  // throws naming the known rewards
}

void EstimatorSection::validate(int epochs) const {
  FUSENAS_CHECK(name == "full" || name == "curve" || name == "hyperband" ||
                    name == "successive-halving" || name == "morphism" || name == "one-shot" ||
                    name == "tapas",
                "unknown estimator '{}' (use full, curve, hyperband, successive-halving, morphism, "
                "one-shot or tapas)",
                name);
  FUSENAS_CHECK((name == "tapas") == !predictor.empty(), "{}",
                name == "tapas" ? "--estimator tapas needs --predictor <model folder> (made "
                                  "by nas_predict train)"
                                : "--predictor is for --estimator tapas only");
  FUSENAS_CHECK(supernet_epochs >= 1 && supernet_epochs <= 10000,
                "supernet epochs must lie in [1, 10000], got {}", supernet_epochs);
  FUSENAS_CHECK(downscale == 1 || downscale == 2 || downscale == 4,
                "downscale must be 1, 2 or 4, got {}", downscale);
  FUSENAS_CHECK(std::isfinite(model_scale) && model_scale > 0 && model_scale <= 1,
                "model scale must lie in (0, 1], got {}", model_scale);
  FUSENAS_CHECK(model_scale == 1 || !(name == "morphism" || name == "one-shot" || name == "tapas"),
                "--model-scale is for full, curve and Hyperband trials, not --estimator {}", name);
  if (name == "curve") {
    FUSENAS_CHECK(curve_min_epochs >= 3,
                  "curve-min-epochs must be at least 3 (a curve is fitted to them), got {}",
                  curve_min_epochs);
    FUSENAS_CHECK(epochs > curve_min_epochs,
                  "--estimator curve needs more epochs per trial ({}) than curve-min-epochs ({})",
                  epochs, curve_min_epochs);
    FUSENAS_CHECK(std::isfinite(curve_threshold) && curve_threshold > 0 && curve_threshold < 1,
                  "curve threshold must lie in (0, 1), got {}", curve_threshold);
  }
  if (hyperband()) {
    FUSENAS_CHECK(eta >= 2, "eta must be at least 2, got {}", eta);
    FUSENAS_CHECK(min_epochs >= 1, "min-epochs must be at least 1, got {}", min_epochs);
    FUSENAS_CHECK(static_cast<int64_t>(min_epochs) * eta <= epochs,
                  "--estimator {} needs epochs per trial ({}) of at least min-epochs x eta ({} x "
                  "{}), so that one rung can halve",
                  name, epochs, min_epochs, eta);
  }
}

strategy::StrategyOptions StrategySection::options(int64_t budget) const {
  strategy::StrategyOptions o;
  o.budget_trials = budget;
  strategy::EvolutionOptions evo = strategy::default_evolution_options(budget);
  if (population > 0) evo.population = population;
  if (tournament > 0) evo.tournament = tournament;
  evo.tournament = std::min(evo.tournament, evo.population);
  o.evolution = evo;
  strategy::BoOptions bo = strategy::default_bo_options(budget);
  if (bo_init > 0) bo.initial_random = bo_init;
  bo.acquisition = acquisition;
  o.bo = bo;
  o.reference = reference;
  strategy::RlOptions rl;
  rl.children_per_step = rl_children > 0 ? rl_children : strategy::default_rl_children(budget);
  rl.lr = rl_lr;
  rl.reward = strategy::parse_rl_reward(rl_reward);
  o.rl = rl;
  return o;
}

BlackBoxConfig blackbox_preset(const std::string& name, const std::string& space) {
  BlackBoxConfig c;
  c.preset = name;
  c.space = space;
  if (name == "paper") {
    c.data.train_subset = 0;
    c.epochs = 10;
    c.budget_trials = 100;
    return c;
  }
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // 20 trials in at most about 10 minutes on two CPU cores (docs/results.md has the times): the
  // chain space's default networks take 5-10 s a trial at 3 epochs of 5,000 images, a 6-layer
  // multi-branch network of width 16 about 30 s at 10,000 images (so it gets 6,000), a 3-cell
  // DARTS network of C = 8 about 20 s at 2 epochs of 2,000 images, and a 6-layer zoph-le network
  // at the paper's filter counts (24-64) about 3 minutes at 6,000 images (full-resolution convs
  // up to 7x7 on concatenated inputs), so quick searches a third of those widths: 10-40 s.
  c.epochs = 3;
  c.data.train_subset = 10000;
  if (space == "darts-cell") {
    c.space_options = {{"init_channels", 8}, {"cells", 3}};
    c.data.train_subset = 4000;
    c.epochs = 2;
  } else if (space == "multibranch") {
    c.space_options = {{"layers", 6}, {"channels", 16}};
    c.data.train_subset = 6000;
  } else if (space == "zoph-le") {
    c.space_options = {{"layers", 6}, {"filters", {8, 12, 16, 24}}};
    c.data.train_subset = 6000;
  }
  return c;
}

BlackBoxConfig BlackBoxConfig::resolved() const {
  BlackBoxConfig c = *this;
  c.data = c.data.resolved();
  return c;
}

SearchDataConfig BlackBoxConfig::search_data(int64_t batch) const {
  // Search-val scores trials; it is never trained on, so it is not augmented.
  return {data, batch, seed, false, false};
}

int BlackBoxConfig::architecture_trials() const {
  if (hpo != "after") return budget_trials;
  return std::max(1, static_cast<int>(std::lround(budget_trials * (1.0 - hpo_share))));
}

void BlackBoxConfig::validate() const {
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  strategy.validate();
  const auto& spaces = space::arch_space_names();
  FUSENAS_CHECK(std::find(spaces.begin(), spaces.end(), space) != spaces.end(),
                "unknown space '{}' (use {})", space, fmt::join(spaces, ", "));
  FUSENAS_CHECK(space_options.is_object(), "space options must be a JSON object, got {}",
                space_options.dump());
  space::make_arch_space(space, space_options);  // throws naming a bad option
  FUSENAS_CHECK(hpo == "off" || hpo == "joint" || hpo == "after",
                "unknown hpo mode '{}' (use off, joint or after)", hpo);
  FUSENAS_CHECK(std::isfinite(hpo_share) && hpo_share > 0 && hpo_share < 1,
                "hpo share must lie in (0, 1), got {}", hpo_share);
  FUSENAS_CHECK(budget_trials >= 1 && budget_trials <= 100000,
                "the trial budget must lie in [1, 100000], got {}", budget_trials);
  // The tuning stage would replay architectures as hyperparameters.
  FUSENAS_CHECK(strategy.name != "reference" || hpo != "after",
                "--strategy reference replays candidates with --hpo off or joint, not after");
  FUSENAS_CHECK(hpo != "after" || budget_trials >= 2,
                "--hpo after needs a budget of at least 2 trials (one to find an architecture, "
                "one to tune it), got {}",
                budget_trials);
  FUSENAS_CHECK(std::isfinite(budget_minutes) && budget_minutes >= 0,
                "the minutes budget must be 0 (none) or positive, got {}", budget_minutes);
  FUSENAS_CHECK(epochs >= 1 && epochs <= 10000, "epochs per trial must lie in [1, 10000], got {}",
                epochs);
  estimator.validate(epochs);
  const bool layer_space = space == "chain" || space == "multibranch";
  FUSENAS_CHECK(!estimator.morphism() || layer_space,
                "--estimator morphism evolves chain or multibranch networks (the spaces with "
                "morphisms), not {}",
                space);
  FUSENAS_CHECK(!estimator.morphism() || (strategy.name == "evolution" && hpo == "off"),
                "--estimator morphism evolves chain or multibranch networks: it needs --strategy "
                "evolution and --hpo off");
  FUSENAS_CHECK(!estimator.tapas() || layer_space,
                "--estimator tapas predicts chain and multibranch architectures, not {}", space);
  FUSENAS_CHECK(!estimator.tapas() || hpo == "off",
                "--estimator tapas predicts chain and multibranch architectures: it needs --hpo "
                "off");
  FUSENAS_CHECK(!estimator.one_shot() || layer_space || space == "darts-cell",
                "--estimator one-shot has no supernet for the {} space (it has one for chain, "
                "multibranch and darts-cell)",
                space);
  FUSENAS_CHECK(!estimator.one_shot() || (hpo == "off" && estimator.downscale == 1),
                "--estimator one-shot scores architectures at full size: it needs --hpo off and "
                "--downscale 1");
  FUSENAS_CHECK(!estimator.hyperband() || hpo != "after",
                "--estimator {} runs with --hpo off or joint, not after", estimator.name);
  data.validate();
  FUSENAS_CHECK(data.image_size() % estimator.downscale == 0,
                "downscale {} does not divide the {}-pixel images of {}", estimator.downscale,
                data.image_size(), data.dataset);
  FUSENAS_CHECK(batch_size >= 2, "batch size must be at least 2 (batch statistics), got {}",
                batch_size);
  sgd.validate();
  FUSENAS_CHECK(std::isfinite(trial_time_limit) && trial_time_limit >= 0,
                "the trial time limit must be 0 (none) or positive seconds, got {}",
                trial_time_limit);
  FUSENAS_CHECK(parallel == "async" || parallel == "sync",
                "unknown parallel mode '{}' (use async or sync)", parallel);
  FUSENAS_CHECK(strategy.name != "rl" || space == "zoph-le",
                "--strategy rl is Zoph & Le's controller, which writes zoph-le networks: it needs "
                "--space zoph-le, not {}",
                space);
  FUSENAS_CHECK(strategy.name != "rl" || hpo == "off",
                "--strategy rl searches architectures: it needs --hpo off");
  FUSENAS_CHECK(strategy.name != "rl" || estimator.name == "full" || estimator.name == "curve",
                "--strategy rl learns from trained children: use --estimator full or curve, not {}",
                estimator.name);
}

nlohmann::json to_json(const BlackBoxConfig& c) {
  return keys_to_json(c);
}

BlackBoxConfig blackbox_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<BlackBoxConfig>(j, "config");
}

}  // namespace fusenas::nas
