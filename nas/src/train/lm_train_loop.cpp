// The language-model run's body in the run skeleton: a truncated-BPTT step per window (lr scaled
// by the window's drawn length, AR/TAR, clipping), the validation perplexity and NT-ASGD's switch
// at each epoch's end, the best weights kept, and the test perplexity of the best at the end.
#include <fmt/format.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/rnn/lm_step.h"
#include "fusenas/nas/run/divergence.h"
#include "lm_trainer_impl.h"

namespace fusenas::nas {
namespace {

constexpr const char* kBestWeights = "best.safetensors";

Tensor on(const Device& device, const Tensor& t) {
  return device.is_cpu() ? t : t.to(device);
}

// The window's rows [start, start + length) of a batchified split, contiguous.
Tensor rows(const Tensor& batched, int64_t start, int64_t length) {
  return batched.narrow(0, start, length).contiguous();
}

// Puts ASGD's averaged iterates into the parameters for its lifetime, then the current iterates
// back (nothing without an ASGD).
class AveragedWeights {
 public:
  AveragedWeights(const std::vector<Tensor>& params, const optim::Optimizer* asgd)
      : params_(params) {
    const auto* a = dynamic_cast<const optim::ASGD*>(asgd);
    if (a == nullptr) return;
    NoGradGuard no_grad;
    saved_ = optim::clone(params_);
    for (size_t i = 0; i < params_.size(); ++i) {
      const Tensor ax = a->average(i);
      if (ax.defined()) params_[i].copy_(ax);  // not stepped since the switch: kept as it is
    }
  }
  ~AveragedWeights() {
    if (saved_.empty()) return;
    NoGradGuard no_grad;
    optim::copy_(params_, saved_);
  }
  AveragedWeights(const AveragedWeights&) = delete;
  AveragedWeights& operator=(const AveragedWeights&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<Tensor> saved_;
};

}  // namespace

LmTrainResult LmTrainer::result() const {
  LmTrainResult r;
  r.run_dir = run_.path();
  r.finished = runner_->finished();
  r.epochs_done = runner_->epoch();
  r.best_valid_loss = best_valid_;
  r.test_loss = test_loss_;
  r.asgd = asgd_;
  r.params = count_parameters(*model_);
  r.graph_replays = graph_replays_ + (graphs_ ? graphs_->replays() : 0);
  r.graph_captures = graph_captures_ + (graphs_ ? graphs_->captures() : 0);
  return r;
}

LmTrainResult LmTrainer::run() {
  log_.line(fmt::format(
      "nas_train --task lm: {} on {} ({} level, vocabulary {}, {} / {} / {} tokens), hidden {}, "
      "device {}, {} threads",
      config_.recurrent_arch().describe(), corpus_.name, config_.data.level, corpus_.vocab.size(),
      corpus_.train.numel(), corpus_.valid.numel(), corpus_.test.numel(), config_.lm.hidden,
      device_.str(), num_threads()));
  log_.line(fmt::format("params: {} ({:.3f}M); run folder {}", count_parameters(*model_),
                        count_parameters(*model_) / 1e6, run_.path()));
  if (!runner_->run()) return result();
  // The test split with the best weights, as DARTS's train.py does at the end.
  const io::SafetensorsFile best = io::load_safetensors(run_.file(kBestWeights));
  nn::StateDict weights;
  for (const auto& [name, t] : best.tensors) weights[name] = t;
  model_->load_state_dict(weights);
  test_loss_ = *evaluate(
      test_, [] { return false; }, "test");
  const LmTrainResult r = result();
  if (device_.is_cuda()) {
    log_.line(fmt::format("CUDA graphs: {} captured, {} windows replayed (--eager turns them off)",
                          r.graph_captures, r.graph_replays));
  }
  run_.write_json("result.json", {{"valid_loss", r.best_valid_loss},
                                  {"valid_ppl", r.valid_ppl()},
                                  {"test_loss", r.test_loss},
                                  {"test_ppl", r.test_ppl()},
                                  {"epochs", r.epochs_done},
                                  {"asgd", r.asgd},
                                  {"params", r.params},
                                  {"cell_family", config_.cell_family},
                                  {"cell", nlohmann::json::parse(config_.cell)}});
  log_.line(fmt::format("best valid ppl {:.2f}; test ppl {:.2f} (loss {:.4f})", r.valid_ppl(),
                        r.test_ppl(), r.test_loss));
  return r;
}

void LmTrainer::begin_phase(size_t) {
  use_plan(runner_->epoch());
  model_->train();
  if (runner_->steps_done(0) == 0) state_ = model_->zero_state(config_.lm.batch_size);
}

int64_t LmTrainer::run_step(size_t) {
  const int64_t step = runner_->steps_done(0);
  const rnn::LmWindow& w = plan_.at(static_cast<size_t>(step));
  const Tensor targets = rows(train_, w.start + 1, w.length);
  // AWD-LSTM and DARTS scale the lr by the drawn length for this step only.
  const double lr =
      config_.lm.lr * static_cast<double>(w.drawn) / static_cast<double>(config_.lm.bptt);
  const Tensor inputs = on(device_, rows(train_, w.start, w.length));
  const rnn::LmStepResult r =
      graphs_
          ? graphed_step(inputs, on(device_, targets), lr)
          : rnn::lm_train_step(*model_, *optimizer_, params_, inputs, on(device_, targets), state_,
                               dropout_, drop_gen_, rnn::lm_step_options(config_.lm), lr);
  runner_->step_stats().add(r.raw_loss, r.logits, targets.reshape({targets.numel()}), Tensor(), 0,
                            {runner_->epoch() + 1, step + 1, lr});
  return targets.numel();
}

rnn::LmStepResult LmTrainer::graphed_step(const Tensor& inputs, const Tensor& targets, double lr) {
  model_->train();
  const rnn::LmMasks masks = model_->draw_masks(dropout_, inputs.size(1), drop_gen_);
  // The graph's inputs: the window, the state, then the masks that are on (the same ones at every
  // window of a run, so the layout is fixed).
  const std::vector<const Tensor*> mask_slots = {&masks.embedding, &masks.input, &masks.x, &masks.h,
                                                 &masks.output};
  std::vector<Tensor> in = {inputs, targets, state_.h};
  if (state_.c.defined()) in.push_back(state_.c);
  for (const Tensor* m : mask_slots)
    if (m->defined()) in.push_back(*m);
  for (const Tensor& m : masks.weights)
    if (m.defined()) in.push_back(m);
  const double base_lr = optimizer_->lr();
  optimizer_->set_lr(lr);
  const std::vector<Tensor> out = graphs_->run(in, 0, [&](const std::vector<Tensor>& g) {
    size_t k = 0;
    const Tensor& window = g[k++];
    const Tensor& next = g[k++];
    rnn::LmState state;
    state.h = g[k++];
    if (state_.c.defined()) state.c = g[k++];
    rnn::LmMasks m;
    const std::vector<Tensor*> slots = {&m.embedding, &m.input, &m.x, &m.h, &m.output};
    for (size_t i = 0; i < slots.size(); ++i)
      if (mask_slots[i]->defined()) *slots[i] = g[k++];
    for (const Tensor& w : masks.weights) m.weights.push_back(w.defined() ? g[k++] : Tensor());
    const rnn::LmStepResult r = rnn::lm_train_step_on_masks(
        *model_, *optimizer_, params_, window, next, state, m, rnn::lm_step_options(config_.lm));
    return std::vector<Tensor>{r.raw_loss, r.logits, state.h, state.c};
  });
  optimizer_->set_lr(base_lr);
  state_ = {out[2], out[3]};
  return {out[0], out[1]};
}

std::string LmTrainer::progress_text(size_t) const {
  const EpochTotals& t = runner_->totals();
  return fmt::format("loss {:.4f} ppl {:.2f}", t.mean_loss(), std::exp(t.mean_loss()));
}

std::optional<double> LmTrainer::evaluate(const Tensor& batched,
                                          const std::function<bool()>& stopping,
                                          const std::string& label) {
  return rnn::lm_evaluate(*model_, batched, config_.lm.bptt, device_, stopping, options_.progress,
                          label);
}

bool LmTrainer::end_epoch(const std::function<bool()>& stopping) {
  const int epoch = runner_->epoch();
  const bool was_asgd = asgd_;
  bool best = false;
  std::optional<double> valid;
  {
    // Under ASGD the averaged iterates are the model evaluated and kept (DARTS rnn/train.py).
    const AveragedWeights averaged(params_, asgd_ ? optimizer_.get() : nullptr);
    valid = evaluate(valid_, stopping, "valid");
    if (!valid) return false;
    check_finite(*valid, "the validation loss", {epoch + 1, 0, optimizer_->lr()});
    best = best_valid_ == 0 || *valid < best_valid_;
    if (best) {
      std::vector<std::pair<std::string, Tensor>> weights;
      for (const auto& [name, t] : model_->state_dict()) weights.emplace_back(name, t);
      io::save_safetensors(run_.file(kBestWeights), weights);
      best_valid_ = *valid;
    }
  }
  const EpochTotals& totals = runner_->totals();
  if (!asgd_) {
    if (should_switch_to_asgd(sgd_history_, *valid, config_.nonmono)) switch_to_asgd();
    sgd_history_.push_back(*valid);
  }
  last_valid_ = *valid;
  const double seconds = totals.train_seconds;
  const double rate = seconds > 0 ? totals.seen / seconds : 0;
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch + 1},
                                      {"train_loss", totals.mean_loss()},
                                      {"train_ppl", std::exp(totals.mean_loss())},
                                      {"valid_loss", *valid},
                                      {"valid_ppl", std::exp(*valid)},
                                      {"optimizer", was_asgd ? "asgd" : "sgd"},
                                      {"best", best},
                                      {"train_seconds", seconds},
                                      {"tokens_per_s", rate}});
  log_.line(fmt::format(
      "epoch {}/{}  train ppl {:.2f}  valid ppl {:.2f}{}  {}  {:.1f} s ({:.0f} tok/s){}", epoch + 1,
      config_.epochs, std::exp(totals.mean_loss()), std::exp(*valid), best ? " (best)" : "",
      was_asgd ? "asgd" : "sgd", seconds, rate,
      asgd_ && !was_asgd ? "; switching to ASGD (NT-ASGD)" : ""));
  return true;
}

}  // namespace fusenas::nas
