// nas_search: black-box architecture (and hyperparameter) search over trained children; flags in
// (a preset plus overrides), library call, one line on stderr for any error.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>

#include "../common/app_support.h"
#include "../common/search_cli.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/search/cluster.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/reference_replay.h"

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv);
  using namespace fusenas;
  using namespace fusenas::nas;
  // Under mpirun every rank starts here: rank 0 runs the search, the others train its trials.
  std::unique_ptr<Cluster> cluster;
  try {
    cluster = Cluster::join_if_launched(&argc, &argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nas_search: {}\n", e.what());
    return 1;
  }
  apps::SearchCli<BlackBoxConfig, BlackBoxOptions> cli(
      "nas_search",
      "nas_search: black-box NAS over trained children: random search, regularized evolution "
      "(Real et al. 2019) or Bayesian optimisation (a Gaussian process with expected "
      "improvement), on the DARTS cell space, a chain of layers, ENAS's multi-branch space or "
      "Zoph & Le's layer space, optionally with the hyperparameters. Every trial trains a "
      "network from scratch at low fidelity and is scored on search-val. Trials live in "
      "trials.sqlite in the run folder; Ctrl-C stops, --resume continues without retraining "
      "finished trials.");
  CLI::App& app = cli.app;
  auto& ov = cli.ov;
  cli.add_preset(
      "quick (small networks, a few thousand images, 2-3 epochs per trial, 20 trials: 10 "
      "minutes or less on a CPU) or paper (the space's networks, every image, 10 epochs, 100 "
      "trials) [default: paper with a GPU, quick without]");
  const auto strategy = [](auto field) { return apps::member(&BlackBoxConfig::strategy, field); };
  ov.add(app, "--strategy", strategy(&StrategySection::name),
         "random, evolution, bo, rl (Zoph & Le's RNN controller trained by REINFORCE; --space "
         "zoph-le) or reference (the candidates of --reference's done trials)")
      ->check(CLI::IsMember({"random", "evolution", "bo", "reference", "rl"}));
  ov.add(app, "--reference", strategy(&StrategySection::reference),
         "--strategy reference: the nas_search run folder whose done trials' candidates are "
         "asked again, in trial order (same space and options); the budget is capped at them")
      ->type_name("DIR");
  ov.add(app, "--space", &BlackBoxConfig::space,
         "darts-cell, chain, multibranch or zoph-le (Zoph & Le 2017's layers with skip "
         "connections)")
      ->check(CLI::IsMember({"darts-cell", "chain", "multibranch", "zoph-le"}));
  std::string space_options;
  CLI::Option* space_options_opt = cli.track(app.add_option(
      "--space-options", space_options,
      "The space's options as JSON, e.g. '{\"max_layers\": 6}'; missing keys keep the preset's "
      "(docs/cli.md)"));
  ov.add(app, "--hpo", &BlackBoxConfig::hpo,
         "Hyperparameters: off, joint (searched with the architecture) or after (tuned for the "
         "best architecture in the last share of the trials)")
      ->check(CLI::IsMember({"off", "joint", "after"}));
  ov.add(app, "--hpo-share", &BlackBoxConfig::hpo_share, "--hpo after: share of the trials [0.25]");
  CLI::Option* budget_opt = ov.add(app, "--budget-trials", &BlackBoxConfig::budget_trials,
                                   "Trials in all [quick 20; reference: the reference's]");
  ov.add(app, "--budget-minutes", &BlackBoxConfig::budget_minutes,
         "Also stop at the first trial end after this many minutes of training; 0 = no limit");
  ov.add(app, "--epochs", &BlackBoxConfig::epochs,
         "Training epochs per trial (the fidelity; Hyperband's most)");
  const auto estimator = [](auto field) { return apps::member(&BlackBoxConfig::estimator, field); };
  ov.add(
        app, "--estimator", estimator(&EstimatorSection::name),
        "full (every trial trains all epochs), curve (stop trials whose learning curve will not "
        "beat the best), hyperband or successive-halving (rungs over epochs), morphism (evolution "
        "whose children inherit their parent's trained weights), one-shot (a supernet trained once "
        "scores every candidate), tapas (a trained predictor scores every candidate) [full]")
      ->check(CLI::IsMember(
          {"full", "curve", "hyperband", "successive-halving", "morphism", "one-shot", "tapas"}));
  ov.add(app, "--downscale", estimator(&EstimatorSection::downscale),
         "Average-pool the images by 1, 2 or 4 before the network (a lower fidelity) [1]")
      ->check(CLI::IsMember({1, 2, 4}));
  ov.add(app, "--model-scale", estimator(&EstimatorSection::model_scale),
         "Multiply every width of a trial's network by this, in (0, 1] (a lower fidelity) [1]");
  ov.add(app, "--curve-min-epochs", estimator(&EstimatorSection::curve_min_epochs),
         "Curve: epochs before the first prediction [3]");
  ov.add(app, "--curve-threshold", estimator(&EstimatorSection::curve_threshold),
         "Curve: prune below this probability of beating the best [0.05]");
  ov.add(app, "--eta", estimator(&EstimatorSection::eta),
         "Hyperband: keep the best 1/eta of each rung [3]");
  ov.add(app, "--min-epochs", estimator(&EstimatorSection::min_epochs),
         "Hyperband: epochs of the first rung [1]");
  ov.add(app, "--supernet-epochs", estimator(&EstimatorSection::supernet_epochs),
         "One-shot: epochs of the supernet's training [10]");
  ov.add(app, "--predictor", estimator(&EstimatorSection::predictor),
         "Tapas: the model folder nas_predict train wrote");
  const BlackBoxConfig quick = blackbox_preset("quick"),
                       quick_cells = blackbox_preset("quick", "darts-cell"),
                       paper = blackbox_preset("paper");
  apps::bind_data_flags(
      app, ov, &BlackBoxConfig::data,
      {{"quick", quick.data}, {"quick darts-cell", quick_cells.data}, {"paper", paper.data}},
      "Share of those images each trial trains on; the rest scores it");
  ov.add(app, "--batch-size", &BlackBoxConfig::batch_size,
         "Batch size where not searched [" + std::to_string(nas::kTrainingBatchSize) + "]");
  apps::bind_sgd_flags(app, ov, &BlackBoxConfig::sgd, {{"", quick.sgd}},
                       {.unless = ", where not searched"});
  ov.add(app, "--population", strategy(&StrategySection::population),
         "Evolution: population P [budget / 5 in [4, 100]]");
  ov.add(app, "--tournament", strategy(&StrategySection::tournament),
         "Evolution: tournament S [P / 4, >= 2]");
  ov.add(app, "--bo-init", strategy(&StrategySection::bo_init),
         "BO: random trials before the surrogate [budget / 10 in [5, 20]]");
  ov.add(app, "--acquisition", strategy(&StrategySection::acquisition), "BO: ei or thompson")
      ->check(CLI::IsMember({"ei", "thompson"}));
  ov.add(app, "--rl-children", strategy(&StrategySection::rl_children),
         "RL: children per controller update, m [the paper's 8 from 80 trials, else budget / 10 "
         ">= 2]");
  ov.add(app, "--rl-lr", strategy(&StrategySection::rl_lr),
         "RL: the controller's ADAM learning rate [the paper's 0.0006]");
  ov.add(app, "--rl-reward", strategy(&StrategySection::rl_reward),
         "RL: accuracy (the final search-val accuracy) or max5-cubed (the paper's: the best of the "
         "last 5 epochs, cubed) [accuracy]")
      ->check(CLI::IsMember({"accuracy", "max5-cubed"}));
  ov.add(app, "--parallel", &BlackBoxConfig::parallel,
         "Under mpirun: async (every worker rank always busy) or sync (batches told in trial "
         "order, as one process would) [async]")
      ->check(CLI::IsMember({"async", "sync"}));
  ov.add(app, "--trial-time-limit", &BlackBoxConfig::trial_time_limit,
         "Seconds a trial may train before it stops and is recorded as failed (timed out); 0 = "
         "no limit [0]");
  cli.add_seed("Seed of the strategy, the weights and the data order");
  cli.add_run_flags();
  app.footer(
      "Examples:\n"
      "  nas_search                                  # quick random search over chains\n"
      "  nas_search --strategy evolution --space darts-cell --budget-trials 40\n"
      "  nas_search --strategy bo --space multibranch --hpo joint --budget-minutes 60\n"
      "  nas_search --space zoph-le --space-options '{\"layers\": 4, \"strides\": [1, 2]}'\n"
      "  nas_search --strategy reference --reference runs/ref-chain --epochs 1\n"
      "  nas_search --strategy rl --space zoph-le --budget-trials 40\n"
      "  mpirun -np 5 nas_search --strategy rl --space zoph-le   # 4 worker ranks train children\n"
      "  nas_search --resume runs/search-20260101-120000\n"
      "Exit status: 0 done, 1 error, 2 bad flags, 130 stopped by a signal (resumable).");

  if (const auto rc = cli.parse(argc, argv)) return *rc;
  if (cluster && cluster->rank() > 0) {
    try {
      serve_trials(*cluster, cli.options);
      return 0;
    } catch (const std::exception& e) {
      fmt::print(stderr, "nas_search (rank {}): {}\n", cluster->rank(), e.what());
      cluster->abort(1);
    }
  }
  cli.options.cluster = cluster.get();
  const int rc = cli.run([&] {
    if (!cli.resume_dir.empty()) return blackbox_resume(cli.resume_dir, cli.options);
    // The preset's values depend on the space, which a flag may choose.
    BlackBoxConfig probe = blackbox_preset(cli.chosen_preset());
    cli.apply(probe);
    BlackBoxConfig c = blackbox_preset(cli.chosen_preset(), probe.space);
    cli.apply(c);
    if (space_options_opt->count() > 0) {
      const auto j = nlohmann::json::parse(space_options, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object())
        throw Error(fmt::format("--space-options must be a JSON object, got '{}'", space_options));
      c.space_options.update(j);
    }
    // A replay evaluates the reference's candidates: all of them unless fewer are asked for.
    // Building it here refuses a reference of another space before any data or run folder.
    if (c.strategy.name == "reference") {
      const std::shared_ptr<const space::ArchSpace> arch =
          space::make_arch_space(c.space, c.space_options);
      const std::shared_ptr<const space::Space> s =
          c.hpo == "joint"
              ? std::make_shared<space::JointSpace>(arch, std::make_shared<space::HpSpace>())
              : std::static_pointer_cast<const space::Space>(arch);
      const strategy::ReferenceReplay replay(*s, c.seed, c.strategy.reference);
      const int n = static_cast<int>(replay.reference().candidates.size());
      // Hyperband's budget counts jobs (several per candidate), so only a plain replay is capped.
      if (!c.estimator.hyperband())
        c.budget_trials = budget_opt->count() > 0 ? std::min(c.budget_trials, n) : n;
    }
    return blackbox_search(c, cli.options);
  });
  if (cluster) cluster->release_workers();  // workers that never got a trial (an early error)
  return rc;
}
