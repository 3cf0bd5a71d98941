// Whole black-box searches on a tiny CIFAR-10 set: the trial database and files they leave, a
// resume after a stop and after a trial left running equal the uninterrupted search, failing
// trials do not stop the search, the hyperparameter stage of --hpo after, and the estimators:
// Hyperband's and successive halving's rungs, learning-curve pruning, downscaled images.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "fusenas/nas/estimate/curve_extrapolation.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/morphism.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

using testing::message_of;
using testing::quiet_options;
using testing::read_json;
using testing::TempDir;
using testing::write_tiny_cifar;

// 4 trials of one epoch of 2 batches on 16 + 16 images, over chains of at most 3 narrow layers.
BlackBoxConfig tiny_search(const std::string& data_dir, const std::string& strategy = "random") {
  BlackBoxConfig c = blackbox_preset("quick", "chain");
  c.strategy.name = strategy;
  c.space_options = {{"max_layers", 3}, {"filters", {4, 8}}, {"stem_channels", 4}};
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.data.train_subset = 32;
  c.batch_size = 8;
  c.epochs = 1;
  c.budget_trials = 4;
  c.seed = 3;
  return c;
}

std::vector<Trial> trials_of(const std::string& run) {
  return TrialDb::open(run + "/" + TrialDb::kFile).trials();
}

// A stopped search continued with --resume must end with the uninterrupted search's trials:
// the same candidates at the same fidelities, with the same outcomes and scores.
void expect_same_trials(const std::vector<Trial>& resumed, const std::vector<Trial>& whole) {
  ASSERT_EQ(resumed.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(resumed[i].candidate, whole[i].candidate) << i;
    EXPECT_EQ(resumed[i].fidelity, whole[i].fidelity) << i;
    EXPECT_EQ(resumed[i].status, whole[i].status) << i;
    EXPECT_EQ(resumed[i].score, whole[i].score) << i;
  }
}

TEST(BlackBoxSearch, LeavesTheTrialsTheIncumbentAndItsPlots) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  const std::string out = tmp.sub("run");
  const BlackBoxResult r =
      blackbox_search(tiny_search(tmp.sub("data")), quiet_options<BlackBoxOptions>(out));
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.trials, 4);
  const std::vector<Trial> trials = trials_of(out);
  ASSERT_EQ(trials.size(), 4u);
  const space::ChainSpace chain(space::ChainOptions::from_json(
      {{"max_layers", 3}, {"filters", {4, 8}}, {"stem_channels", 4}}));
  double best = -1;
  int64_t best_id = 0;
  for (const Trial& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_NO_THROW(chain.validate(t.candidate));
    ASSERT_EQ(t.curve.size(), 1u);
    EXPECT_EQ(t.curve[0]["val_acc"].get<double>(), *t.score);
    // The recorded count is the built network's, which the space computes independently.
    EXPECT_EQ(*t.params, chain.count_parameters(t.candidate, {3, 32, 10}));
    EXPECT_EQ(t.hyperparameters["lr"], 0.05);
    if (*t.score > best) {
      best = *t.score;
      best_id = t.id;
    }
  }
  EXPECT_EQ(r.best_trial, best_id);
  const nlohmann::json inc = read_json(out + "/incumbent.json");
  EXPECT_EQ(inc["trial"], best_id);
  EXPECT_EQ(inc["score"].get<double>(), best);
  EXPECT_EQ(inc["arch"], trials[best_id - 1].candidate);
  for (const char* f : {"incumbent.svg", "accuracy_vs_params.svg", "search.log", "config.json"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
}

TEST(BlackBoxSearch, AStoppedSearchAndATrialLeftRunningResumeToTheUninterruptedSearch) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  const BlackBoxConfig c = tiny_search(tmp.sub("data"), "evolution");
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> reference = trials_of(whole);

  // Stopped after 2 trials: nothing is running.
  const BlackBoxResult first = blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 2));
  EXPECT_FALSE(first.finished);
  EXPECT_EQ(trials_of(parts).size(), 2u);
  // As if a process had been killed while training trial 3: it is in the database, running.
  {
    TrialDb db = TrialDb::open(parts + "/" + TrialDb::kFile);
    NewTrial t;
    t.candidate = reference[2].candidate;
    t.encoding = reference[2].encoding;
    t.hyperparameters = reference[2].hyperparameters;
    t.fidelity = reference[2].fidelity;
    ASSERT_EQ(db.add(t), 3);
    db.start(3, /*pid=*/999999);
  }
  const BlackBoxResult rest = blackbox_resume(parts, quiet_options<BlackBoxOptions>(""));
  EXPECT_TRUE(rest.finished);
  const std::vector<Trial> resumed = trials_of(parts);
  ASSERT_EQ(resumed.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    EXPECT_EQ(resumed[i].candidate, reference[i].candidate) << i;
    EXPECT_EQ(resumed[i].score, reference[i].score) << i;
    EXPECT_EQ(resumed[i].status, TrialStatus::kDone) << i;
  }
  EXPECT_EQ(resumed[2].attempts, 2);  // the interrupted trial ran again
  EXPECT_EQ(rest.best_trial, read_json(whole + "/incumbent.json")["trial"].get<int64_t>());
}

TEST(BlackBoxSearch, FailingTrialsAreRecordedAndTheSearchGoesOn) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.sgd.lr = 1e30;  // every trial diverges
  c.sgd.grad_clip = 0;
  const std::string out = tmp.sub("run");
  const std::string msg =
      message_of([&] { blackbox_search(c, quiet_options<BlackBoxOptions>(out)); });
  EXPECT_NE(msg.find("all 4 trials failed"), std::string::npos) << msg;
  const std::vector<Trial> trials = trials_of(out);
  ASSERT_EQ(trials.size(), 4u);
  for (const Trial& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kFailed);
    EXPECT_NE(t.error.find("diverged"), std::string::npos) << t.error;
  }
}

// A trial over its time limit stops at its next step and is recorded as failed, timed out.
TEST(BlackBoxSearch, TrialsPastTheTimeLimitFailAsTimedOut) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.trial_time_limit = 1e-9;  // past before the first step
  const std::string out = tmp.sub("run");
  const std::string msg =
      message_of([&] { blackbox_search(c, quiet_options<BlackBoxOptions>(out)); });
  EXPECT_NE(msg.find("all 4 trials failed"), std::string::npos) << msg;
  for (const Trial& t : trials_of(out)) {
    EXPECT_EQ(t.status, TrialStatus::kFailed);
    EXPECT_NE(t.error.find("timed out"), std::string::npos) << t.error;
  }
  c.trial_time_limit = -1;
  EXPECT_NE(message_of([&] { c.validate(); }).find("trial time limit"), std::string::npos);
}

// Zoph & Le's RL: the controller is rebuilt by replaying the told children, so a search stopped
// between its updates (m = 2, stopped after 3 of 6 children) resumes to the uninterrupted one.
TEST(BlackBoxSearch, AStoppedRlSearchResumesToTheUninterruptedSearch) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"), "rl");
  c.space = "zoph-le";
  c.space_options = {{"layers", 3}, {"filters", {4, 8}}, {"heights", {1, 3}}, {"widths", {1, 3}}};
  c.strategy.rl_children = 2;
  c.strategy.rl_lr = 0.5;  // large, so that every update changes what the controller samples
  c.budget_trials = 6;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> reference = trials_of(whole);
  ASSERT_EQ(reference.size(), 6u);
  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 3)).finished);
  EXPECT_TRUE(blackbox_resume(parts, quiet_options<BlackBoxOptions>("")).finished);
  expect_same_trials(trials_of(parts), reference);
  // The controller did learn: the children after an update are not those of a fresh controller.
  c.strategy.rl_lr = 1e-12;
  const std::string frozen = tmp.sub("frozen");
  blackbox_search(c, quiet_options<BlackBoxOptions>(frozen));
  const std::vector<Trial> still = trials_of(frozen);
  int differ = 0;
  for (size_t i = 2; i < 6; ++i) differ += still[i].candidate != reference[i].candidate ? 1 : 0;
  EXPECT_GT(differ, 0);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(still[i].candidate, reference[i].candidate);
}

TEST(BlackBoxSearch, HpoAfterTunesTheBestArchitectureOfTheFirstStage) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.hpo = "after";
  c.hpo_share = 0.5;
  const std::string out = tmp.sub("run");
  blackbox_search(c, quiet_options<BlackBoxOptions>(out));
  const std::vector<Trial> trials = trials_of(out);
  ASSERT_EQ(trials.size(), 4u);
  // Stage one: architectures at the fixed hyperparameters; stage two: hyperparameter points.
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(trials[i].candidate.contains("layers"));
    EXPECT_EQ(trials[i].hyperparameters["lr"], 0.05);
  }
  const Trial& best_first =
      *std::max_element(trials.begin(), trials.begin() + 2,
                        [](const Trial& a, const Trial& b) { return *a.score < *b.score; });
  for (int i = 2; i < 4; ++i) {
    EXPECT_TRUE(trials[i].candidate.contains("lr"));
    EXPECT_EQ(trials[i].hyperparameters, trials[i].candidate);
    // The architecture is stage one's best: the same parameter count.
    EXPECT_EQ(trials[i].params, best_first.params);
  }
}

// The fidelity fields of the trials, in id order.
std::vector<int> epochs_of(const std::vector<Trial>& trials) {
  std::vector<int> e;
  for (const Trial& t : trials) e.push_back(t.fidelity["epochs"].get<int>());
  return e;
}

// The trial of `rung_trials` with the best score, ties to the smallest id (Hyperband's rule).
const Trial& best_of(const std::vector<Trial>& trials, int64_t first, int64_t last) {
  const Trial* best = &trials[first - 1];
  for (int64_t id = first; id <= last; ++id)
    if (*trials[id - 1].score > *best->score) best = &trials[id - 1];
  return *best;
}

// Hyperband with R = 3 epochs and eta = 3 (Li et al., Algorithm 1, worked by hand): s_max = 1;
// bracket s = 1 runs n = ceil(2 / 2 * 3) = 3 candidates for r = 1 epoch and the best
// floor(3 / 3) = 1 again for 3 epochs; bracket s = 0 runs n = ceil(2 / 1 * 1) = 2 new candidates
// for 3 epochs. Then a second iteration starts over.
TEST(BlackBoxSearch, HyperbandTrialsFollowTheBracketsAndPromoteTheBest) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.estimator.name = "hyperband";
  c.epochs = 3;
  c.budget_trials = 8;
  const std::string out = tmp.sub("run");
  const BlackBoxResult r = blackbox_search(c, quiet_options<BlackBoxOptions>(out));
  const std::vector<Trial> trials = trials_of(out);
  ASSERT_EQ(trials.size(), 8u);
  EXPECT_EQ(epochs_of(trials), (std::vector<int>{1, 1, 1, 3, 3, 3, 1, 1}));
  for (const Trial& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_EQ(static_cast<int>(t.curve.size()), t.fidelity["epochs"].get<int>()) << t.id;
  }
  // Trial 4 is rung 1 of bracket 0: the best of trials 1-3, trained again from scratch.
  EXPECT_EQ(trials[3].candidate, best_of(trials, 1, 3).candidate);
  EXPECT_EQ(trials[3].fidelity["hyperband"]["rung"], 1);
  EXPECT_EQ(trials[4].fidelity["hyperband"]["bracket"], 1);
  EXPECT_EQ(trials[6].fidelity["hyperband"]["iteration"], 2);
  // The incumbent is the best of the trials trained for all 3 epochs.
  EXPECT_EQ(r.best_trial, best_of(trials, 4, 6).id);
}

// BOHB's rule, with BO's random start of 2: trials 1-3 (1 epoch) and 5 come from the model of
// 1 epoch (the first three by falling back to their own budget, whose strategy has nothing yet;
// trial 5 because 1 epoch then has 3 results and 3 epochs only trial 4's); once trial 5 gives
// 3 epochs its second result, new configurations come from the model of 3 epochs. A resume
// rebuilds every budget's model.
TEST(BlackBoxSearch, ModelBasedHyperbandAsksTheLargestBudgetWithEnoughResults) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"), "bo");
  c.strategy.bo_init = 2;
  c.estimator.name = "hyperband";
  c.epochs = 3;
  c.budget_trials = 8;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> trials = trials_of(whole);
  ASSERT_EQ(trials.size(), 8u);
  std::vector<int> model;
  for (const Trial& t : trials) model.push_back(t.fidelity["hyperband"].value("model_epochs", 0));
  EXPECT_EQ(model, (std::vector<int>{1, 1, 1, 0, 1, 3, 3, 3}));  // 0: a promotion
  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 5)).finished);
  blackbox_resume(parts, quiet_options<BlackBoxOptions>(""));
  expect_same_trials(trials_of(parts), trials);
}

// Successive halving alone is Hyperband's first bracket, repeated; a stopped search resumes to
// the uninterrupted one, the scheduler rebuilt from the database.
TEST(BlackBoxSearch, SuccessiveHalvingRepeatsItsBracketAndResumes) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"), "evolution");
  c.estimator.name = "successive-halving";
  c.epochs = 3;
  c.budget_trials = 8;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> reference = trials_of(whole);
  EXPECT_EQ(epochs_of(reference), (std::vector<int>{1, 1, 1, 3, 1, 1, 1, 3}));
  EXPECT_EQ(reference[7].candidate, best_of(reference, 5, 7).candidate);

  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 3)).finished);
  EXPECT_TRUE(blackbox_resume(parts, quiet_options<BlackBoxOptions>("")).finished);
  expect_same_trials(trials_of(parts), reference);
}

// Learning-curve pruning, followed trial by trial: after each of epochs 3 and 4, a trial stops as
// pruned exactly when the extrapolation of its curve so far gives it a probability below the
// threshold of beating the best finished trial before it (none for the first trial), and the
// database holds the prediction. The threshold is strict, so that most trials are pruned.
TEST(BlackBoxSearch, CurvePruningStopsTrialsAndRecordsThePrediction) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.estimator.name = "curve";
  c.estimator.curve_threshold = 0.999;
  c.epochs = 5;
  c.budget_trials = 5;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  const BlackBoxResult r = blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> trials = trials_of(whole);
  ASSERT_EQ(trials.size(), 5u);
  std::optional<double> best;
  int64_t best_id = 0, pruned = 0;
  for (const Trial& t : trials) {
    size_t stop_at = 5;
    for (size_t k = 3; k < 5 && best && stop_at == 5; ++k) {
      ASSERT_GE(t.curve.size(), k) << t.id;
      std::vector<double> y;
      for (size_t e = 0; e < k; ++e) y.push_back(t.curve[e]["val_acc"].get<double>() / 100);
      if (estimate::should_prune(y, 5, *best / 100, 0.999).prune) stop_at = k;
    }
    ASSERT_EQ(t.curve.size(), stop_at) << t.id;
    if (stop_at == 5) {
      EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
      if (!best || *t.score > *best) {
        best = t.score;
        best_id = t.id;
      }
      continue;
    }
    ++pruned;
    EXPECT_EQ(t.status, TrialStatus::kPruned) << t.id;
    EXPECT_LT(t.metrics["probability_to_beat"].get<double>(), 0.999);
    EXPECT_EQ(t.metrics["epochs_trained"], stop_at);
    EXPECT_EQ(t.metrics["val_acc"], t.curve.back()["val_acc"]);
    EXPECT_TRUE(std::isfinite(t.metrics["predicted_val_acc"].get<double>()));
    EXPECT_NE(t.error.find("learning curve"), std::string::npos) << t.error;
  }
  EXPECT_GE(pruned, 1);
  EXPECT_EQ(r.pruned, pruned);
  EXPECT_EQ(r.best_trial, best_id);
  // The strategy was told the predictions: a resumed search asks the same candidates.
  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 2)).finished);
  blackbox_resume(parts, quiet_options<BlackBoxOptions>(""));
  expect_same_trials(trials_of(parts), trials);
}

// Downscaled images: the networks are built for 16 x 16 inputs, and the fidelity says so; a
// downscaled model likewise.
TEST(BlackBoxSearch, DownscaledTrialsSeeSmallerImages) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.estimator.downscale = 2;
  c.space_options = {{"max_layers", 3}, {"filters", {4, 8}}, {"stem_channels", 4}};
  const std::string out = tmp.sub("run");
  blackbox_search(c, quiet_options<BlackBoxOptions>(out));
  const space::ChainSpace chain(space::ChainOptions::from_json(c.space_options));
  for (const Trial& t : trials_of(out)) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_EQ(t.fidelity["downscale"], 2);
    EXPECT_EQ(*t.params, chain.count_parameters(t.candidate, {3, 16, 10}));
  }
  // A half-width model trains and records the full architecture's parameter count.
  c.estimator.downscale = 1;
  c.estimator.model_scale = 0.5;
  const std::string narrow = tmp.sub("narrow");
  blackbox_search(c, quiet_options<BlackBoxOptions>(narrow));
  for (const Trial& t : trials_of(narrow)) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_EQ(t.fidelity["model_scale"], 0.5);
    EXPECT_EQ(*t.params, chain.count_parameters(t.candidate, {3, 32, 10}));
  }
}

// Weight inheritance: after a population of P sampled trials, every child is a morphism of a
// done trial among the last P, its architecture what the morphism makes of the parent's, and
// every done trial leaves its weights for its children. A resume plans the same children.
TEST(BlackBoxSearch, MorphismChildrenComeFromTrainedParents) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"), "evolution");
  c.estimator.name = "morphism";
  c.strategy.population = 2;
  c.strategy.tournament = 2;
  c.budget_trials = 6;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  const std::vector<Trial> trials = trials_of(whole);
  ASSERT_EQ(trials.size(), 6u);
  const space::ChainSpace chain(space::ChainOptions::from_json(c.space_options));
  for (const Trial& t : trials) {
    ASSERT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_TRUE(
        std::filesystem::exists(fmt::format("{}/weights/trial-{}.safetensors", whole, t.id)))
        << t.id;
    if (t.id <= 2) {
      EXPECT_FALSE(t.fidelity.contains("morph")) << t.id;
      continue;
    }
    const nlohmann::json& m = t.fidelity.at("morph");
    const int64_t parent = m.at("parent").get<int64_t>();
    EXPECT_TRUE(parent >= t.id - 2 && parent < t.id) << t.id;  // among the last P = 2
    space::Morphism morphism{space::MorphismKind::kDeepen, m["morphism"]["layer"].get<int>(),
                             m["morphism"]["value"].get<int64_t>()};
    for (auto k : {space::MorphismKind::kDeepen, space::MorphismKind::kWiden,
                   space::MorphismKind::kGrowKernel})
      if (space::morphism_kind_name(k) == m["morphism"]["kind"].get<std::string>())
        morphism.kind = k;
    EXPECT_EQ(space::to_json(
                  space::morph_arch(chain.arch(trials[parent - 1].candidate), chain, morphism)),
              t.candidate)
        << t.id;
  }
  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 4)).finished);
  blackbox_resume(parts, quiet_options<BlackBoxOptions>(""));
  expect_same_trials(trials_of(parts), trials);
}

// One-shot: the supernet is trained once and kept in the run folder; trials train nothing and
// score with its weights, so a resumed search (which loads the supernet) scores the same.
TEST(BlackBoxSearch, OneShotTrialsAreScoredByTheSupernet) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.estimator.name = "one-shot";
  c.estimator.supernet_epochs = 1;
  const std::string whole = tmp.sub("whole"), parts = tmp.sub("parts");
  blackbox_search(c, quiet_options<BlackBoxOptions>(whole));
  EXPECT_TRUE(std::filesystem::exists(whole + "/one_shot/checkpoint.json"));
  const std::vector<Trial> trials = trials_of(whole);
  ASSERT_EQ(trials.size(), 4u);
  for (const Trial& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_TRUE(t.curve.empty());
    EXPECT_EQ(t.fidelity["epochs"], 0);
    EXPECT_EQ(t.fidelity["supernet_epochs"], 1);
    EXPECT_GE(*t.score, 0);
    EXPECT_LE(*t.score, 100);
  }
  EXPECT_FALSE(blackbox_search(c, quiet_options<BlackBoxOptions>(parts, 2)).finished);
  blackbox_resume(parts, quiet_options<BlackBoxOptions>(""));
  expect_same_trials(trials_of(parts), trials);
  // The supernet's training counts against --budget-minutes: a budget it alone exceeds ends the
  // search after one trial.
  c.budget_minutes = 1e-6;
  const BlackBoxResult short_one =
      blackbox_search(c, quiet_options<BlackBoxOptions>(tmp.sub("short")));
  EXPECT_TRUE(short_one.finished);
  EXPECT_EQ(short_one.trials, 1);
}

// A train-less predictor, trained on a search's own trials, scores every trial of a new search:
// each score is its prediction for the candidate at the search's fidelity, and nothing trains.
TEST(BlackBoxSearch, TapasTrialsAreThePredictorsPredictions) {
  TempDir tmp;
  write_tiny_cifar(tmp.sub("data"), 8);
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.budget_trials = 6;
  const std::string trained = tmp.sub("trained");
  blackbox_search(c, quiet_options<BlackBoxOptions>(trained));
  estimate::tapas::GatherOptions g;
  g.difficulty = [](const std::string&, const std::string&) {
    return estimate::tapas::Difficulty{0.5, {}, 0};
  };
  estimate::tapas::PredictorOptions po;
  po.steps = 50;
  po.ensemble = 1;
  estimate::tapas::Predictor::train(estimate::tapas::gather({trained}, g), po)
      .save(tmp.sub("model"));

  c.estimator.name = "tapas";
  c.estimator.predictor = tmp.sub("model");
  c.seed = 4;  // other candidates than the ones it was trained on
  const std::string out = tmp.sub("run");
  blackbox_search(c, quiet_options<BlackBoxOptions>(out));
  const auto predictor = estimate::tapas::Predictor::load(tmp.sub("model"));
  for (const Trial& t : trials_of(out)) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id;
    EXPECT_TRUE(t.curve.empty());
    estimate::tapas::Query q{"chain", c.space_options, t.candidate, "cifar10", {1, 16, 1}, 0.5};
    EXPECT_DOUBLE_EQ(*t.score, predictor.predict(q)) << t.id;
  }
}

TEST(BlackBoxSearch, BadConfigsFailWithOneClearMessage) {
  TempDir tmp;
  BlackBoxConfig c = tiny_search(tmp.sub("data"));
  c.strategy.name = "annealing";
  EXPECT_NE(message_of([&] { c.validate(); }).find("unknown strategy 'annealing'"),
            std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.space_options = {{"max_layer", 3}};
  EXPECT_NE(message_of([&] { c.validate(); }).find("max_layer"), std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.hpo = "after";
  c.budget_trials = 1;
  EXPECT_NE(message_of([&] { c.validate(); }).find("at least 2 trials"), std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.estimator.name = "magic";
  EXPECT_NE(message_of([&] { c.validate(); }).find("unknown estimator 'magic'"), std::string::npos);
  c.estimator.name = "curve";
  c.epochs = 3;
  EXPECT_NE(message_of([&] { c.validate(); }).find("needs more epochs per trial (3)"),
            std::string::npos);
  c.estimator.name = "hyperband";
  c.epochs = 2;
  EXPECT_NE(message_of([&] { c.validate(); }).find("at least min-epochs x eta (1 x 3)"),
            std::string::npos);
  c.epochs = 3;
  c.hpo = "after";
  EXPECT_NE(message_of([&] { c.validate(); }).find("--hpo off or joint"), std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.estimator.name = "morphism";
  EXPECT_NE(message_of([&] { c.validate(); }).find("needs --strategy evolution"),
            std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.estimator.name = "one-shot";
  c.hpo = "joint";
  EXPECT_NE(message_of([&] { c.validate(); }).find("needs --hpo off and --downscale 1"),
            std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.estimator.name = "tapas";
  EXPECT_NE(message_of([&] { c.validate(); }).find("needs --predictor"), std::string::npos);
  c = tiny_search(tmp.sub("data"));
  c.estimator.downscale = 3;
  EXPECT_NE(message_of([&] { c.validate(); }).find("downscale must be 1, 2 or 4"),
            std::string::npos);
  // A missing dataset leaves no run folder behind.
  c = tiny_search(tmp.sub("nowhere"));
  EXPECT_NE(message_of([&] { blackbox_search(c, quiet_options<BlackBoxOptions>(tmp.sub("r"))); }),
            "no error");
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("r")));
}

}  // namespace
}  // namespace fusenas::nas
