// Black-box search configuration (nas_search): strategy (its section), space, hyperparameter mode,
// budget, the fidelity every trial trains at, the data, the default hyperparameters, presets,
// validation and the config.json form.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/run_options.h"
#include "fusenas/nas/strategy/make_strategy.h"

namespace fusenas::nas {

// The strategy and its options; 0 = the default scaled to the budget (docs/cli.md).
struct StrategySection {
  std::string name = "random";     // random | evolution | bo | reference ("strategy")
  int population = 0;              // evolution: P
  int tournament = 0;              // evolution: S
  int bo_init = 0;                 // bo: random trials before the surrogate
  std::string acquisition = "ei";  // bo: ei | thompson
  // reference: the run folder whose done trials' candidates it replays; set iff name is
  // "reference" (config.json's "reference")
  std::string reference{};
  // rl (Zoph & Le): children per controller update (m), ADAM's lr, and the reward: accuracy (the
  // final search-val accuracy) or max5-cubed (the paper's: the best of the last 5 epochs, cubed).
  int rl_children = 0;
  double rl_lr = 6e-4;
  std::string rl_reward = "accuracy";

  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
  // The options of a strategy that has `budget` trials.
  strategy::StrategyOptions options(int64_t budget) const;
};

// How a trial's performance is estimated (issue 13's estimators; docs/cli.md):
// - full: every trial trains for the config's epochs;
// - curve: learning-curve extrapolation (Domhan et al. 2015): after curve_min_epochs epochs, a
//   trial whose predicted final accuracy beats the incumbent with a probability below
//   curve_threshold stops and is recorded as pruned, with its prediction;
// - hyperband / successive-halving (Li et al. 2017): trials are jobs of Hyperband's brackets (or
//   of its most aggressive bracket alone) over epochs, from min_epochs up to the config's epochs,
//   keeping the best 1/eta of each rung; a promoted candidate trains again from scratch;
// - morphism (weight inheritance): regularized evolution (the strategy's P and S) whose children
//   are network morphisms of a trained parent and start from its weights (chain, multibranch);
// - one-shot: one shared-weight supernet over the space, trained once for supernet_epochs with a
//   random path per step, scores every candidate on search-val without training it (chain,
//   multibranch, darts-cell);
// - tapas: a train-less predictor (nas_predict train) at `predictor` scores every candidate at
//   the config's fidelity (chain, multibranch).
// downscale and model_scale are fidelity knobs: images are average-pooled by `downscale` (2:
// 28 -> 14 pixels) before the network, which is built for the smaller size; the network's widths
// are multiplied by `model_scale` (space/model_scale.h; full, curve and Hyperband trials).
struct EstimatorSection {
  std::string name = "full";  // config.json's "estimator"
  int downscale = 1;
  double model_scale = 1.0;
  int curve_min_epochs = 3;
  double curve_threshold = 0.05;
  int eta = 3;
  int min_epochs = 1;
  int supernet_epochs = 10;
  std::string predictor{};  // tapas: the model folder nas_predict train wrote

  bool hyperband() const { return name == "hyperband" || name == "successive-halving"; }
  bool morphism() const { return name == "morphism"; }
  bool one_shot() const { return name == "one-shot"; }
  bool tapas() const { return name == "tapas"; }
  // Throws fusenas::Error with one clear sentence for the first bad value; `epochs` is the
  // trial's (full) fidelity.
  void validate(int epochs) const;
};

struct BlackBoxConfig {
  std::string preset = "quick";  // "quick" or "paper": where the values below started from
  StrategySection strategy;
  std::string space = "chain";  // darts-cell | chain | multibranch | zoph-le
  // The space's own options ({"max_layers": 6} for chain; docs/cli.md lists them); missing keys
  // keep the space's defaults.
  nlohmann::json space_options = nlohmann::json::object();
  // off: every trial trains with the hyperparameters below; joint: an architecture and its
  // hyperparameters are one candidate; after: the first (1 - hpo_share) of the trials search the
  // architecture with the hyperparameters below, the rest tune the best one's hyperparameters.
  std::string hpo = "off";
  double hpo_share = 0.25;
  // Budget: the search ends after budget_trials trials or, when budget_minutes > 0, at the first
  // trial end after that many minutes, whichever comes first.
  int budget_trials = 20;
  double budget_minutes = 0;
  // Fidelity: every trial trains from scratch for `epochs` epochs on search-train (cosine lr from
  // lr to lr_min) and is scored by its accuracy on search-val.
  int epochs = 3;
  EstimatorSection estimator;
  DataSection data{.train_subset = 10000, .train_portion = 0.5};
  // Hyperparameters where they are not searched (nas_train's SGD defaults).
  int64_t batch_size = kTrainingBatchSize;
  SgdSection sgd;
  uint64_t seed = 0;
  // Under mpirun with worker ranks: async keeps every worker busy and tells each result as it
  // comes; sync runs batches (the strategy's update size for rl, else one trial per worker) and
  // tells each batch in trial order, as a single process would.
  std::string parallel = "async";
  // Seconds a trial may train before it is stopped and recorded as failed ("timed out"); 0 = no
  // limit. Checked before every step, so a trial overruns it by at most one step.
  double trial_time_limit = 0;

  // Fills data_dir, crop_padding and flip with the dataset's defaults.
  BlackBoxConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value (the space's options
  // and the strategy's included).
  void validate() const;
  // Trials that search the architecture (all of them unless hpo is "after").
  int architecture_trials() const;
  SearchDataConfig search_data(int64_t batch) const;
};

// The preset's values for a space: "quick" (small networks and a few thousand images, 20 trials
// in about 10 minutes or less on two CPU cores) or "paper" (the space's default networks on the
// whole training set, 10 epochs per trial, 100 trials).
BlackBoxConfig blackbox_preset(const std::string& name, const std::string& space = "chain");

nlohmann::json to_json(const BlackBoxConfig& c);
// Unknown keys are an error; missing keys keep their defaults.
BlackBoxConfig blackbox_config_from_json(const nlohmann::json& j);

class Cluster;

struct BlackBoxOptions : RunOptions {
  // Under mpirun: the job whose worker ranks train the trials while rank 0 runs the search;
  // null: this process trains every trial.
  const Cluster* cluster = nullptr;
};

}  // namespace fusenas::nas
