// BlackBoxConfig: presets, dataset defaults, validation (the space's and the strategy's options
// included) and JSON.
#include "fusenas/nas/search/search_config.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/make_strategy.h"

namespace fusenas::nas {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(BlackBoxConfig, preset, strategy, space,
                                                space_options, hpo, hpo_share, budget_trials,
                                                budget_minutes, epochs, dataset, data_dir,
                                                train_subset, train_portion, crop_padding, flip,
                                                batch_size, lr, lr_min, momentum, weight_decay,
                                                grad_clip, population, tournament, bo_init,
                                                acquisition, seed)

BlackBoxConfig blackbox_preset(const std::string& name, const std::string& space) {
  BlackBoxConfig c;
  c.preset = name;
  c.space = space;
  if (name == "paper") {
    c.train_subset = 0;
    c.epochs = 10;
    c.budget_trials = 100;
    return c;
  }
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // 20 trials in at most about 10 minutes on two CPU cores (docs/results.md has the times): the
  // chain space's default networks take about 6 s a trial at 3 epochs of 5,000 images, a
  // 6-layer multi-branch network of width 16 about 15 s, and a 3-cell DARTS network of C = 8
  // about 18 s at 2 epochs of 2,000 images.
  if (space == "darts-cell") {
    c.space_options = {{"init_channels", 8}, {"cells", 3}};
    c.train_subset = 4000;
    c.epochs = 2;
  } else {
    if (space == "multibranch") c.space_options = {{"layers", 6}, {"channels", 16}};
    c.train_subset = 10000;
    c.epochs = 3;
  }
  return c;
}

BlackBoxConfig BlackBoxConfig::resolved() const {
  BlackBoxConfig c = *this;
  resolve_data_defaults(c.dataset, c.data_dir, c.crop_padding, c.flip);
  return c;
}

SearchDataConfig BlackBoxConfig::data(int64_t batch) const {
  SearchDataConfig d{dataset, train_subset, train_portion, batch, seed, crop_padding, flip};
  d.augment_val = false;  // search-val scores trials; it is never trained on
  return d;
}

int BlackBoxConfig::architecture_trials() const {
  if (hpo != "after") return budget_trials;
  return std::max(1, static_cast<int>(std::lround(budget_trials * (1.0 - hpo_share))));
}

void BlackBoxConfig::validate() const {
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  const auto& strategies = strategy::strategy_names();
  FUSENAS_CHECK(std::find(strategies.begin(), strategies.end(), strategy) != strategies.end(),
                "unknown strategy '{}' (use {})", strategy, fmt::join(strategies, ", "));
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
  FUSENAS_CHECK(hpo != "after" || budget_trials >= 2,
                "--hpo after needs a budget of at least 2 trials (one to find an architecture, "
                "one to tune it), got {}",
                budget_trials);
  FUSENAS_CHECK(std::isfinite(budget_minutes) && budget_minutes >= 0,
                "the minutes budget must be 0 (none) or positive, got {}", budget_minutes);
  FUSENAS_CHECK(epochs >= 1 && epochs <= 10000, "epochs per trial must lie in [1, 10000], got {}",
                epochs);
  data(batch_size).validate();
  FUSENAS_CHECK(batch_size >= 2, "batch size must be at least 2 (batch statistics), got {}",
                batch_size);
  validate_sgd(lr, lr_min, momentum, weight_decay, grad_clip);
  FUSENAS_CHECK(population >= 0 && tournament >= 0 && bo_init >= 0,
                "population, tournament and bo-init must be 0 (scaled default) or positive");
  FUSENAS_CHECK(acquisition == "ei" || acquisition == "thompson",
                "unknown acquisition '{}' (use ei or thompson)", acquisition);
}

nlohmann::json to_json(const BlackBoxConfig& c) {
  return nlohmann::json(c);
}

BlackBoxConfig blackbox_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<BlackBoxConfig>(j, "config");
}

}  // namespace fusenas::nas
