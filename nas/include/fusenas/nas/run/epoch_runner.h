// The run skeleton every kind of run plugs into (training, DARTS, ENAS, trials): epochs made of
// phases of steps, the run's position in them, the epoch's sums with the deferred step
// statistics, progress bars, stopping at a step boundary, and the position's checkpoint fields.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/stop_signal.h"

namespace fusenas::nas {

// A part of every epoch: its steps run in order, and a stop can come after any of them.
struct Phase {
  Phase(std::string name_, std::string step_noun_, std::string checkpoint_key_, int64_t length_)
      : name(std::move(name_)),
        step_noun(std::move(step_noun_)),
        checkpoint_key(std::move(checkpoint_key_)),
        length(length_) {}

  std::string name;            // "the search", "shared-weight training": "stopped during <name>"
  std::string step_noun;       // "step", "batch": "epoch 3, batch 5/40" in the stop message
  std::string checkpoint_key;  // its position's field in checkpoint.json ("batch")
  // Steps per epoch. A body whose epochs differ in length (a language model's windows of drawn
  // lengths) sets each epoch's with EpochRunner::set_length before the epoch runs.
  int64_t length = 0;
  // Training phases feed the deferred step statistics: the runner drains them into the epoch's
  // sums, counts their images and times their steps as training time. Other phases (ENAS's
  // controller) keep their own sums.
  bool training = true;
  // The progress bar's label ("" = "epoch e/E") and unit ("img" counts images, else steps).
  std::string bar_label;
  std::string unit = "step";
};

// Sums over the current epoch's training steps so far; checkpointed so that a resumed epoch
// reports what the uninterrupted one would.
struct EpochTotals {
  double loss_sum = 0;      // sum of loss * batch size
  double val_loss_sum = 0;  // sum of the architect's validation loss * its batch size (DARTS)
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;

  double mean_loss() const { return seen > 0 ? loss_sum / seen : 0; }
  double accuracy() const { return seen > 0 ? 100.0 * correct / seen : 0; }
  double mean_val_loss() const { return seen > 0 ? val_loss_sum / seen : 0; }
};

// What a kind of run provides. The runner owns the position and the sums; the body owns the
// model, the data and the files.
class RunBody {
 public:
  virtual ~RunBody() = default;
  // Called before the first step of a phase in an epoch, and when a run resumes inside it.
  virtual void begin_phase(size_t /*phase*/) {}
  // Runs the next step of `phase`; returns the images it trained on (progress counts them).
  virtual int64_t run_step(size_t phase) = 0;
  // The progress bar's text, after the runner drained the deferred statistics.
  virtual std::string progress_text(size_t phase) const = 0;
  // The epoch's end once every phase is done: evaluation, checks, records, the schedule's step.
  // False when `stopping` cut the evaluation short: it is redone on resume.
  virtual bool end_epoch(const std::function<bool()>& stopping) = 0;
  virtual void save_checkpoint() const = 0;
};

class EpochRunner {
 public:
  // `what` names the run in the stop message. The options' stop_after_steps is the test hook
  // that acts like SIGTERM once that many steps (all phases, across resumes) are done.
  EpochRunner(RunBody& body, std::vector<Phase> phases, int epochs, std::string run_path,
              RunLog& log, bool progress, int64_t stop_after_steps);

  // Runs from the current position to the last epoch's end (true) or to a stop (false), after
  // which the checkpoint is saved and the log says how to continue.
  bool run();

  int epoch() const { return epoch_; }
  int epochs() const { return epochs_; }
  bool finished() const { return epoch_ >= epochs_ || ended_early_; }
  // Called by the body in end_epoch: the run ends after this epoch as if it were the last (a
  // pruned trial); run() then returns true.
  void end_early() { ended_early_ = true; }
  // The current epoch's length of `phase`: set before its steps run (from begin or end_epoch,
  // or before restore_position for the restored epoch); never below the steps already done.
  void set_length(size_t phase, int64_t length);
  // Steps done in `phase` this epoch.
  int64_t steps_done(size_t phase) const { return done_.at(phase); }
  int64_t global_step() const;
  bool stopping() const;
  const std::vector<Phase>& phases() const { return phases_; }
  // Log text for where a resumed run starts: "epoch 3, batch 5/40".
  std::string position_text() const;

  EpochTotals& totals() { return totals_; }
  const EpochTotals& totals() const { return totals_; }
  DeferredStepStats& step_stats() { return step_stats_; }

  // The position and sums as checkpoint fields ("epoch", one per phase, "global_step",
  // "finished", "partial"); a body adds its own fields to "partial" after this.
  void save_position(nlohmann::json& state) const;
  // Reads what save_position wrote and checks it lies inside this run; throws fusenas::Error
  // naming the folder otherwise. val_loss_sum may be absent (runs without an architect).
  void restore_position(const nlohmann::json& state);

 private:
  bool run_phase(size_t p);

  RunBody& body_;
  std::vector<Phase> phases_;
  int epochs_;
  std::string run_path_;
  RunLog& log_;
  bool progress_;
  int64_t stop_after_steps_;
  const StopSignal* stop_ = nullptr;  // while run() is on

  int epoch_ = 0;
  int64_t steps_before_epoch_ = 0;  // steps of every phase in the finished epochs
  bool ended_early_ = false;
  std::vector<int64_t> done_;  // per phase, steps done this epoch
  EpochTotals totals_;
  DeferredStepStats step_stats_;  // steps not yet added into totals_
};

}  // namespace fusenas::nas
