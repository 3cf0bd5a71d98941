// The run skeleton: the epoch loop, the phase loop with progress and deferred statistics, the
// stop at a step boundary, and the position's checkpoint fields.
#include "fusenas/nas/run/epoch_runner.h"

#include <fmt/format.h>

#include <chrono>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/progress.h"

namespace fusenas::nas {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

EpochRunner::EpochRunner(RunBody& body, std::vector<Phase> phases, int epochs, std::string run_path,
                         RunLog& log, bool progress, int64_t stop_after_steps)
    : body_(body),
      phases_(std::move(phases)),
      epochs_(epochs),
      run_path_(std::move(run_path)),
      log_(log),
      progress_(progress),
      stop_after_steps_(stop_after_steps),
      done_(phases_.size(), 0) {
  FUSENAS_CHECK(!phases_.empty(), "a run needs at least one phase");
}

int64_t EpochRunner::global_step() const {
  int64_t done = 0;
  for (const int64_t d : done_) done += d;
  return steps_before_epoch_ + done;
}

void EpochRunner::set_length(size_t phase, int64_t length) {
  FUSENAS_CHECK(phase < phases_.size() && length >= done_.at(phase),
                "phase {} cannot have length {} with {} steps done", phase, length,
                phase < phases_.size() ? done_[phase] : 0);
  phases_[phase].length = length;
}

bool EpochRunner::stopping() const {
  return (stop_ != nullptr && stop_->requested()) ||
         (stop_after_steps_ > 0 && global_step() >= stop_after_steps_);
}

std::string EpochRunner::position_text() const {
  std::string text = fmt::format("epoch {}", epoch_ + 1);
  for (size_t p = 0; p < phases_.size(); ++p)
    text += fmt::format(", {} {}/{}", phases_[p].step_noun, done_[p], phases_[p].length);
  return text;
}

bool EpochRunner::run() {
  const StopSignal stop;
  stop_ = &stop;
  const auto stopped = [&](const std::string& where) {
    stop_ = nullptr;
    body_.save_checkpoint();
    log_.line(fmt::format("stopped {} ({}); checkpoint saved, continue with --resume {}", where,
                          position_text(), run_path_));
    return false;
  };
  if (global_step() > 0 && !finished()) log_.line("resuming at " + position_text());
  while (!finished()) {
    for (size_t p = 0; p < phases_.size(); ++p) {
      if (done_[p] < phases_[p].length && !run_phase(p))
        return stopped("during " + phases_[p].name);
    }
    if (!body_.end_epoch([this] { return stopping(); })) return stopped("during evaluation");
    ++epoch_;
    for (const int64_t d : done_) steps_before_epoch_ += d;
    std::fill(done_.begin(), done_.end(), 0);
    totals_ = {};
    body_.save_checkpoint();
    if (stopping() && !finished()) return stopped("at the end of an epoch");
  }
  stop_ = nullptr;
  return true;
}

bool EpochRunner::run_phase(size_t p) {
  const Phase& phase = phases_[p];
  const int64_t first = done_[p];
  const bool count_images = phase.unit == "img";
  body_.begin_phase(p);
  Progress bar(
      phase.bar_label.empty() ? fmt::format("epoch {}/{}", epoch_ + 1, epochs_) : phase.bar_label,
      phase.length - first, phase.unit);
  int64_t images = 0;
  const auto finish = [&] {
    if (phase.training) step_stats_.drain_into(totals_);
    if (progress_) bar.finish();
  };
  while (done_[p] < phase.length) {
    const auto t0 = Clock::now();
    const int64_t n = body_.run_step(p);
    if (phase.training) {
      totals_.seen += n;
      // Without a sync per step this times the host's issue rate; the drains and the epoch's
      // evaluation wait for the device, so the epoch's total stays honest.
      totals_.train_seconds += seconds_since(t0);
    }
    images += n;
    ++done_[p];
    const int64_t steps = done_[p] - first;
    if (progress_ && bar.due(steps)) {
      if (phase.training) step_stats_.drain_into(totals_);
      bar.update(steps, count_images ? images : steps, body_.progress_text(p));
    }
    if (stopping()) {
      finish();
      return false;
    }
  }
  finish();
  return true;
}

void EpochRunner::save_position(nlohmann::json& state) const {
  state["epoch"] = epoch_;
  for (size_t p = 0; p < phases_.size(); ++p) state[phases_[p].checkpoint_key] = done_[p];
  state["global_step"] = global_step();
  state["steps_before_epoch"] = steps_before_epoch_;
  state["finished"] = finished();
  state["partial"] = {{"loss_sum", totals_.loss_sum},
                      {"val_loss_sum", totals_.val_loss_sum},
                      {"correct", totals_.correct},
                      {"seen", totals_.seen},
                      {"train_seconds", totals_.train_seconds}};
}

void EpochRunner::restore_position(const nlohmann::json& state) {
  try {
    epoch_ = json_field<int>(state, "epoch");
    for (size_t p = 0; p < phases_.size(); ++p)
      done_[p] = json_field<int64_t>(state, phases_[p].checkpoint_key.c_str());
    // Checkpoints before variable-length epochs: every epoch had the phases' lengths.
    int64_t per_epoch = 0;
    for (const Phase& phase : phases_) per_epoch += phase.length;
    steps_before_epoch_ = state.contains("steps_before_epoch")
                              ? json_field<int64_t>(state, "steps_before_epoch")
                              : static_cast<int64_t>(epoch_) * per_epoch;
    const nlohmann::json& partial = state.at("partial");
    totals_.loss_sum = json_field<double>(partial, "loss_sum");
    totals_.val_loss_sum =
        partial.contains("val_loss_sum") ? json_field<double>(partial, "val_loss_sum") : 0.0;
    totals_.correct = json_field<int64_t>(partial, "correct");
    totals_.seen = json_field<int64_t>(partial, "seen");
    totals_.train_seconds = json_field<double>(partial, "train_seconds");
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_path_, e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_path_, e.what());
  }
  bool inside = epoch_ >= 0 && epoch_ <= epochs_;
  std::string lengths;
  for (size_t p = 0; p < phases_.size(); ++p) {
    inside = inside && done_[p] >= 0 && done_[p] <= phases_[p].length;
    lengths +=
        fmt::format("{}{} x {}", p > 0 ? " + " : "", phases_[p].length, phases_[p].step_noun);
  }
  FUSENAS_CHECK(inside, "checkpoint in {} is at {}, outside this run's {} epochs of {}", run_path_,
                position_text(), epochs_, lengths);
}

}  // namespace fusenas::nas
