// lm_train_step and lm_evaluate: the training step and the split evaluation of every language-
// model run.
#include "fusenas/nas/rnn/lm_step.h"

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/nas/run/progress.h"

namespace fusenas::nas::rnn {
namespace {
constexpr uint64_t kWindowStream = 0x6c6d7770ULL;  // "lmwp"
}  // namespace

LmDropout lm_dropout(const LmSection& s) {
  return {.input = s.dropouti,
          .x = s.dropoutx,
          .h = s.dropouth,
          .output = s.dropout,
          .embedding = s.dropoute,
          .weight = s.wdrop};
}

LmStepOptions lm_step_options(const LmSection& s) {
  return {.alpha = s.alpha, .beta = s.beta, .clip = s.clip};
}

Tensor batchify_split(const Tensor& stream, int64_t batch, const char* split) {
  FUSENAS_CHECK(
      stream.numel() >= 2 * batch,
      "the corpus's {} split has {} tokens, too few for a batch of {} streams (each needs "
      "at least 2)",
      split, stream.numel(), batch);
  return data::batchify(stream, batch);
}

std::vector<LmWindow> plan_lm_epoch(const Tensor& batched, const data::BpttOptions& options,
                                    uint64_t seed, int epoch) {
  Generator gen(data::mix_seed(seed, kWindowStream, static_cast<uint64_t>(epoch)));
  data::BpttIterator it(batched, options, gen);
  std::vector<LmWindow> plan;
  while (!it.done()) {
    const data::BpttWindow w = it.next();
    plan.push_back({w.start, w.length, w.drawn});
  }
  return plan;
}

LmStepResult lm_train_step(RecurrentLm& model, optim::Optimizer& optimizer,
                           const std::vector<Tensor>& params, const Tensor& inputs,
                           const Tensor& targets, LmState& state, const LmDropout& dropout,
                           Generator& gen, const LmStepOptions& options, double lr) {
  model.train();
  const LmMasks masks = model.draw_masks(dropout, inputs.dim() == 2 ? inputs.size(1) : 0, gen);
  const double base_lr = optimizer.lr();
  optimizer.set_lr(lr);
  const LmStepResult r =
      lm_train_step_on_masks(model, optimizer, params, inputs, targets, state, masks, options);
  optimizer.set_lr(base_lr);
  return r;
}

LmStepResult lm_train_step_on_masks(RecurrentLm& model, optim::Optimizer& optimizer,
                                    const std::vector<Tensor>& params, const Tensor& inputs,
                                    const Tensor& targets, LmState& state, const LmMasks& masks,
                                    const LmStepOptions& options) {
  optimizer.zero_grad();
  model.train();
  state = detach(state);
  const RecurrentLm::Output out = model.forward(inputs, state, masks);
  const Tensor raw_loss = model.loss(out, targets);
  Tensor loss = raw_loss;
  if (options.alpha > 0) loss = add(loss, scale(mean(square(out.dropped)), options.alpha));
  const int64_t steps = inputs.size(0);
  if (options.beta > 0 && steps > 1) {
    const Tensor diff = sub(out.raw.narrow(0, 1, steps - 1), out.raw.narrow(0, 0, steps - 1));
    loss = add(loss, scale(mean(square(diff)), options.beta));
  }
  loss.backward();
  if (options.clip > 0) optim::clip_grad_norm_on_device(params, options.clip);
  optimizer.step();
  state = out.state;
  return {raw_loss, out.logits};
}

std::optional<double> lm_evaluate(RecurrentLm& model, const Tensor& batched, int64_t bptt,
                                  const Device& device, const std::function<bool()>& stopping,
                                  bool progress, const std::string& label) {
  NoGradGuard no_grad;
  const auto on = [&](const Tensor& t) {
    return device.is_cpu() ? t.contiguous() : t.contiguous().to(device);
  };
  model.eval();
  data::BpttIterator it(batched, bptt);
  Progress bar(label, it.fixed_windows(), "window");
  LmState state = model.zero_state(batched.size(1));
  double total = 0;
  int64_t tokens = 0, done = 0;
  bool aborted = false;
  while (!it.done()) {
    if (stopping()) {
      aborted = true;
      break;
    }
    const data::BpttWindow w = it.next();
    const RecurrentLm::Output out = model.forward(on(w.inputs), state, {}, nullptr);
    total += model.loss(out, on(w.targets)).item() * static_cast<double>(w.targets.numel());
    tokens += w.targets.numel();
    state = out.state;
    if (progress && bar.due(++done)) bar.update(done, done, "");
  }
  if (progress) bar.finish();
  model.train();
  if (aborted) return std::nullopt;
  // The mean over every predicted token (DARTS divides the sum by all rows, one more than it
  // predicts per stream: a slightly lower loss on small splits).
  return total / static_cast<double>(tokens);
}

}  // namespace fusenas::nas::rnn
