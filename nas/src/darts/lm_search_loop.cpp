// The recurrent-cell search's body in the run skeleton: per window an architect step on the
// valid split, then a weight step on the training window (train_search.py's order); per epoch
// the validation perplexity and the derived genotype.
#include <fmt/format.h>

#include <cmath>

#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/divergence.h"
#include "lm_searcher.h"

namespace fusenas::nas {
namespace {

Tensor on(const Device& device, const Tensor& t) {
  return device.is_cpu() ? t : t.to(device);
}

}  // namespace

LmSearchResult LmSearcher::result() const {
  LmSearchResult r;
  r.run_dir = run_.path();
  r.finished = runner_->finished();
  r.epochs_done = runner_->epoch();
  r.genotype = genotype();
  r.valid_loss = last_valid_;
  return r;
}

LmSearchResult LmSearcher::run() {
  int64_t weights = 0;
  for (const Tensor& p : params_) weights += p.numel();
  log_.line(fmt::format(
      "nas_darts --task lm: DARTS recurrent search ({} nodes, order {}) on {} (vocabulary {}, {} "
      "/ {} tokens), hidden {}, {} weights, device {}, {} threads",
      config_.steps, config_.order, corpus_.name, corpus_.vocab.size(), corpus_.train.numel(),
      corpus_.valid.numel(), config_.lm.hidden, weights, device_.str(), num_threads()));
  if (!runner_->run()) return result();
  const LmSearchResult r = result();
  run_.write_json("result.json", {{"genotype", r.genotype.to_text()},
                                  {"genotype_json", nlohmann::json::parse(r.genotype.to_json())},
                                  {"valid_loss", r.valid_loss},
                                  {"valid_ppl", std::exp(r.valid_loss)},
                                  {"epochs", r.epochs_done}});
  log_.line("final genotype: " + r.genotype.to_text());
  log_.line(fmt::format("train it: nas_train --task lm --arch-file {}/genotype.json", run_.path()));
  return r;
}

void LmSearcher::begin_phase(size_t) {
  use_plan(runner_->epoch());
  model_->train();
  if (runner_->steps_done(0) == 0) {
    state_ = model_->zero_state(config_.lm.batch_size);
    search_state_ = model_->zero_state(config_.lm.batch_size);
  }
}

int64_t LmSearcher::run_step(size_t) {
  const int64_t step = runner_->steps_done(0);
  const rnn::LmWindow& w = plan_.at(static_cast<size_t>(step));
  const Tensor x = on(device_, train_.narrow(0, w.start, w.length).contiguous());
  const Tensor targets = train_.narrow(0, w.start + 1, w.length).contiguous();
  const Tensor y = on(device_, targets);
  const auto [xv, yv] = search_window(w.start);
  const double lr =
      config_.lm.lr * static_cast<double>(w.drawn) / static_cast<double>(config_.lm.bptt);
  model_->train();
  arch_optimizer_->zero_grad();
  const Tensor val_loss = alpha_gradient(x, y, on(device_, xv), on(device_, yv), lr);
  arch_optimizer_->step();
  const rnn::LmStepResult r =
      rnn::lm_train_step(*model_, *optimizer_, params_, x, y, state_, dropout_, drop_gen_,
                         rnn::lm_step_options(config_.lm), lr);
  // The architect's loss weighs as much as the step's training tokens, so the epoch's mean of it
  // (EpochTotals divides by the training tokens) is its mean over the steps' windows.
  runner_->step_stats().add(r.raw_loss, r.logits, targets.reshape({targets.numel()}), val_loss,
                            targets.numel(), {runner_->epoch() + 1, step + 1, lr});
  return targets.numel();
}

std::string LmSearcher::progress_text(size_t) const {
  const EpochTotals& t = runner_->totals();
  return fmt::format("train ppl {:.1f} arch-val ppl {:.1f}", std::exp(t.mean_loss()),
                     std::exp(t.mean_val_loss()));
}

bool LmSearcher::end_epoch(const std::function<bool()>& stopping) {
  const int epoch = runner_->epoch();
  const std::optional<double> valid = rnn::lm_evaluate(*model_, valid_, config_.lm.bptt, device_,
                                                       stopping, options_.progress, "valid");
  if (!valid) return false;
  check_finite(*valid, "the validation loss", {epoch + 1, 0, optimizer_->lr()});
  last_valid_ = *valid;
  const EpochTotals& totals = runner_->totals();
  const rnn::RecurrentGenotype g = genotype();
  run_.write_text("genotype.txt", g.to_text() + "\n");
  run_.write_text("genotype.json", g.to_json() + "\n");
  const double rate = totals.train_seconds > 0 ? totals.seen / totals.train_seconds : 0;
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch + 1},
                                      {"train_loss", totals.mean_loss()},
                                      {"train_ppl", std::exp(totals.mean_loss())},
                                      {"arch_val_loss", totals.mean_val_loss()},
                                      {"valid_loss", *valid},
                                      {"valid_ppl", std::exp(*valid)},
                                      {"genotype", g.to_text()},
                                      {"train_seconds", totals.train_seconds},
                                      {"tokens_per_s", rate}});
  log_.line(fmt::format("epoch {}/{}  train ppl {:.2f}  valid ppl {:.2f}  {:.1f} s ({:.0f} tok/s)",
                        epoch + 1, config_.epochs, std::exp(totals.mean_loss()), std::exp(*valid),
                        totals.train_seconds, rate));
  log_.line("genotype: " + g.to_text());
  return true;
}

}  // namespace fusenas::nas
