// Whole black-box searches on a tiny CIFAR-10 set: the trial database and files they leave, a
// resume after a stop and after a trial left running equal the uninterrupted search, failing
// trials do not stop the search, and the hyperparameter stage of --hpo after.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/chain_space.h"
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
  // A missing dataset leaves no run folder behind.
  c = tiny_search(tmp.sub("nowhere"));
  EXPECT_NE(message_of([&] { blackbox_search(c, quiet_options<BlackBoxOptions>(tmp.sub("r"))); }),
            "no error");
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("r")));
}

}  // namespace
}  // namespace fusenas::nas
