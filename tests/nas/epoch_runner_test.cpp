// The run skeleton on a scripted body: the order of phases, steps and epoch ends, the stop at a
// step boundary, the position's checkpoint fields and their checks.
#include "fusenas/nas/run/epoch_runner.h"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/run_dir.h"
#include "support/expect.h"

namespace fusenas::nas {
namespace {

using testing::expect_error;

// Records every call as a token ("b0" begin phase 0, "s1" a step of phase 1, "E" an epoch end,
// "C" a checkpoint) and trains on 4 images per step of phase 0.
class ScriptedBody : public RunBody {
 public:
  std::vector<std::string> calls;
  int abort_evaluations = 0;  // the next N epoch ends report a stop during evaluation
  EpochRunner* runner = nullptr;
  std::vector<int64_t> seen_at_end;

  void begin_phase(size_t p) override { calls.push_back("b" + std::to_string(p)); }
  int64_t run_step(size_t p) override {
    calls.push_back("s" + std::to_string(p));
    return p == 0 ? 4 : 0;
  }
  std::string progress_text(size_t) const override { return ""; }
  bool end_epoch(const std::function<bool()>&) override {
    if (abort_evaluations > 0) {
      --abort_evaluations;
      calls.push_back("A");
      return false;
    }
    calls.push_back("E");
    seen_at_end.push_back(runner->totals().seen);
    return true;
  }
  void save_checkpoint() const override { const_cast<ScriptedBody*>(this)->calls.push_back("C"); }
};

class EpochRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fusenas_epoch_runner_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<Phase> phases() const {
    Phase control("control", "controller step", "controller_step", 2);
    control.training = false;
    return {Phase("training", "batch", "batch", 3), control};
  }

  std::filesystem::path dir_;
};

std::string joined(const std::vector<std::string>& calls) {
  std::string s;
  for (const auto& c : calls) s += c + " ";
  return s;
}

TEST_F(EpochRunnerTest, RunsPhasesInOrderThenEndsAndCheckpointsEachEpoch) {
  RunDir run(dir_.string());
  RunLog log(run, false);
  ScriptedBody body;
  EpochRunner runner(body, phases(), 2, run.path(), log, false, 0);
  body.runner = &runner;
  EXPECT_TRUE(runner.run());
  EXPECT_EQ(joined(body.calls), "b0 s0 s0 s0 b1 s1 s1 E C b0 s0 s0 s0 b1 s1 s1 E C ");
  EXPECT_TRUE(runner.finished());
  EXPECT_EQ(runner.global_step(), 10);
  // Only the training phase's images count, and the sums restart every epoch.
  EXPECT_EQ(body.seen_at_end, (std::vector<int64_t>{12, 12}));
}

TEST_F(EpochRunnerTest, TheStepHookStopsAtThatStepAndAResumeContinuesFromIt) {
  RunDir run(dir_.string());
  RunLog log(run, false);
  ScriptedBody first;
  EpochRunner a(first, phases(), 2, run.path(), log, false, /*stop_after_steps=*/4);
  first.runner = &a;
  EXPECT_FALSE(a.run());
  // Three training steps, one controller step, then the checkpoint of the stop.
  EXPECT_EQ(joined(first.calls), "b0 s0 s0 s0 b1 s1 C ");
  EXPECT_EQ(a.position_text(), "epoch 1, batch 3/3, controller step 1/2");
  nlohmann::json state;
  a.save_position(state);
  EXPECT_EQ(state["batch"], 3);
  EXPECT_EQ(state["controller_step"], 1);
  EXPECT_EQ(state["global_step"], 4);
  EXPECT_EQ(state["finished"], false);
  EXPECT_EQ(state["partial"]["seen"], 12);

  ScriptedBody second;
  EpochRunner b(second, phases(), 2, run.path(), log, false, 0);
  second.runner = &b;
  b.restore_position(state);
  EXPECT_TRUE(b.run());
  // The finished phase is not begun again; the half-done one resumes with its last step; the
  // restored sums carry into the first epoch's end.
  EXPECT_EQ(joined(second.calls), "b1 s1 E C b0 s0 s0 s0 b1 s1 s1 E C ");
  EXPECT_EQ(second.seen_at_end, (std::vector<int64_t>{12, 12}));
  EXPECT_EQ(b.global_step(), 10);
}

TEST_F(EpochRunnerTest, AnEvaluationCutShortIsRedoneOnResume) {
  RunDir run(dir_.string());
  RunLog log(run, false);
  ScriptedBody first;
  first.abort_evaluations = 1;
  EpochRunner a(first, phases(), 1, run.path(), log, false, 0);
  first.runner = &a;
  EXPECT_FALSE(a.run());
  EXPECT_EQ(joined(first.calls), "b0 s0 s0 s0 b1 s1 s1 A C ");
  nlohmann::json state;
  a.save_position(state);
  ScriptedBody second;
  EpochRunner b(second, phases(), 1, run.path(), log, false, 0);
  second.runner = &b;
  b.restore_position(state);
  EXPECT_TRUE(b.run());
  EXPECT_EQ(joined(second.calls), "E C ");
}

TEST_F(EpochRunnerTest, APositionOutsideTheRunOrWithMissingFieldsIsRefused) {
  RunDir run(dir_.string());
  RunLog log(run, false);
  ScriptedBody body;
  EpochRunner runner(body, phases(), 2, run.path(), log, false, 0);
  nlohmann::json state;
  runner.save_position(state);
  nlohmann::json beyond = state;
  beyond["batch"] = 4;
  expect_error([&] { runner.restore_position(beyond); },
               {"outside this run's 2 epochs of 3 x batch + 2 x controller step"});
  nlohmann::json missing = state;
  missing.erase("controller_step");
  expect_error([&] { runner.restore_position(missing); }, {"key 'controller_step' is missing"});
  nlohmann::json late = state;
  late["epoch"] = 3;
  expect_error([&] { runner.restore_position(late); }, {"is at epoch 4"});
}

TEST(StopSignal, NestedOnesShareOneFlagAndTheOutermostRestoresTheHandlers) {
  struct sigaction before {};
  sigaction(SIGTERM, nullptr, &before);
  {
    const StopSignal search;  // a search holds one across its trials
    {
      const StopSignal trial;  // and each trial's run another
      EXPECT_FALSE(trial.requested());
      StopSignal::raise_for_test();
      EXPECT_TRUE(trial.requested());
    }
    EXPECT_TRUE(search.requested());
    const StopSignal next_trial;  // a signal between two trials is not forgotten
    EXPECT_TRUE(next_trial.requested());
  }
  struct sigaction after {};
  sigaction(SIGTERM, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler);
  const StopSignal fresh;  // a new outermost one starts clear
  EXPECT_FALSE(fresh.requested());
}

}  // namespace
}  // namespace fusenas::nas
