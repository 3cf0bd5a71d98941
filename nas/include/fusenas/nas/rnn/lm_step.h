// The steps every language-model run shares (nas_train --task lm, nas_darts --task lm): one
// truncated-BPTT training step on a window (DARTS rnn/train.py's), and the evaluation of a split.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/optim/optimizer.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "fusenas/nas/run/config_sections.h"

namespace fusenas::nas::rnn {

// One training window of an epoch's plan (rows of the batchified train split).
struct LmWindow {
  int64_t start = 0;
  int64_t length = 0;
  int64_t drawn = 0;  // the drawn length, which scales the step's lr (AWD-LSTM, DARTS)
};

// The windows of `epoch` over `batched` by `options`' rule, drawn from the seed's own stream for
// that epoch: an epoch's length is known before it runs, and a resumed epoch has the same plan.
std::vector<LmWindow> plan_lm_epoch(const Tensor& batched, const data::BpttOptions& options,
                                    uint64_t seed, int epoch);

// The regularisers and clipping of a training step (0 turns one off).
struct LmStepOptions {
  double alpha = 0;  // AR: alpha * mean(dropped outputs^2)
  double beta = 0;   // TAR: beta * mean((raw_t - raw_{t-1})^2)
  double clip = 0;   // the gradients' global L2 norm
};

struct LmStepResult {
  Tensor raw_loss;  // the window's mean cross-entropy, regularisers excluded (0-d, on the device)
  Tensor logits;    // [steps * batch, vocab]
};

// The section's dropout rates and step options.
LmDropout lm_dropout(const LmSection& s);
LmStepOptions lm_step_options(const LmSection& s);

// data::batchify, after checking that every stream gets at least two tokens (one input, one
// target); the error names the split.
Tensor batchify_split(const Tensor& stream, int64_t batch, const char* split);

// State detached, zero_grad, forward in training mode with `dropout`, loss + AR + TAR, backward,
// clipping, then the optimizer's step at `lr` (its own lr is put back after, as AWD-LSTM scales
// it for one window). `state` becomes the window's last state. inputs/targets: int64
// [steps, batch] on the model's device.
LmStepResult lm_train_step(RecurrentLm& model, optim::Optimizer& optimizer,
                           const std::vector<Tensor>& params, const Tensor& inputs,
                           const Tensor& targets, LmState& state, const LmDropout& dropout,
                           Generator& gen, const LmStepOptions& options, double lr);
// Its computation at the optimizer's current lr on masks drawn beforehand (the model in training
// mode): no host read, random draw or changing host scalar, so a CUDA graph can capture it.
LmStepResult lm_train_step_on_masks(RecurrentLm& model, optim::Optimizer& optimizer,
                                    const std::vector<Tensor>& params, const Tensor& inputs,
                                    const Tensor& targets, LmState& state, const LmMasks& masks,
                                    const LmStepOptions& options);

// The mean loss per predicted token of a batchified split (int64 [rows, streams], CPU) in fixed
// windows of `bptt`, the state carried from a zero start, in eval mode (training mode is restored
// after). nullopt when `stopping` says so between windows. A progress bar labelled `label` when
// `progress`.
std::optional<double> lm_evaluate(RecurrentLm& model, const Tensor& batched, int64_t bptt,
                                  const Device& device, const std::function<bool()>& stopping,
                                  bool progress, const std::string& label);

}  // namespace fusenas::nas::rnn
