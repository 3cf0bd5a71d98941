// REINFORCE for the ENAS controller: reward plus entropy bonus, an EMA baseline, Adam on the
// policy-gradient loss (plus the macro skip penalty), and a checkpointable training state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/engine/optim/adam.h"
#include "fusenas/nas/enas/controller.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/config_sections.h"

namespace fusenas::nas::enas {

// ENAS's controller Adam: tf.train.AdamOptimizer(lr, beta1=0.0, epsilon=1e-3), no weight decay;
// the lr of its micro search.
inline constexpr AdamSection kEnasControllerAdam{
    .lr = 3.5e-3, .beta1 = 0.0, .beta2 = 0.999, .eps = 1e-3, .weight_decay = 0};

// Defaults are ENAS's micro search (scripts/cifar10_micro_search.sh, src/utils.py).
struct ReinforceConfig : AdamSection {
  ReinforceConfig() : AdamSection(kEnasControllerAdam) {}
  double entropy_weight = 1e-4;  // reward += entropy_weight * entropy
  double baseline_decay = 0.99;  // baseline = decay * baseline + (1 - decay) * reward
  // Unset: the baseline starts at the first reward, so the very first sample has no advantage.
  // ENAS's TF code starts it at 0 (set 0 here to reproduce that).
  std::optional<double> initial_baseline;
  double skip_weight = 0.8;         // macro only: loss += skip_weight * skip_penalty
  std::optional<double> grad_clip;  // max global L2 norm of the gradient; unset = no clipping
  // Samples whose gradients are averaged into one Adam step (ENAS's controller_num_aggregate).
  int samples_per_step = 10;

  static ReinforceConfig micro() { return {}; }
  // ENAS's macro search: lr 1e-3, 20 samples per step.
  static ReinforceConfig macro();
  // Throws fusenas::Error for a non-positive lr / eps / sample count / clip norm, a decay or a
  // beta outside [0, 1), or a negative weight.
  void validate() const;
};

struct ReinforceStats {
  int64_t step = 0;         // steps done, this one included
  double reward = 0;        // mean of the callback's rewards
  double entropy = 0;       // mean summed entropy of the samples
  double log_prob = 0;      // mean summed log-probability of the samples
  double baseline = 0;      // after this step
  double advantage = 0;     // mean of (reward + entropy bonus - baseline)
  double loss = 0;          // the loss that was differentiated (mean over the samples)
  double grad_norm = 0;     // global L2 norm before clipping
  double skip_penalty = 0;  // macro: mean over the samples
  double skip_rate = 0;     // macro: mean fraction of the L(L-1)/2 possible skips taken
  std::vector<std::variant<MicroArch, MacroArch>> archs;  // the step's samples, in order
  std::vector<double> rewards;                            // their rewards from the callback
};

// Everything a resumed search needs to continue exactly as the uninterrupted one.
struct ReinforceState {
  nn::StateDict controller;
  optim::OptimizerState optimizer;
  std::optional<double> baseline;
  int64_t step = 0;
  GeneratorState generator;
};

class ReinforceTrainer {
 public:
  // Samples are drawn from the trainer's own generator, seeded with `seed`.
  ReinforceTrainer(std::shared_ptr<Controller> controller, const ReinforceConfig& config,
                   uint64_t seed);

  // Draws config().samples_per_step architectures in the controller's space, scores each with
  // `reward` (which must return a finite number, e.g. a validation accuracy in [0, 1]), and takes
  // one Adam step on the mean of -log_prob * (reward + entropy bonus - baseline) (+ the skip
  // penalty). The baseline moves once per sample, before that sample's advantage is taken.
  ReinforceStats step(const std::function<double(const Sample&)>& reward);

  const ReinforceConfig& config() const { return config_; }
  Controller& controller() { return *controller_; }
  optim::Adam& optimizer() { return optimizer_; }
  Generator& generator() { return gen_; }
  std::optional<double> baseline() const { return baseline_; }
  int64_t steps_done() const { return step_; }

  // A deep copy: later steps do not change it.
  ReinforceState state() const;
  // Checks the controller and optimizer parts before changing anything.
  void load_state(const ReinforceState& state);
  // The same state through a run checkpoint: tensors under "<prefix>.controller." and
  // "<prefix>.adam.", the rest in the JSON state under "<prefix>".
  void save(CheckpointWriter& writer, const std::string& prefix) const;
  void load(const CheckpointReader& reader, const std::string& prefix);

 private:
  std::shared_ptr<Controller> controller_;
  ReinforceConfig config_;
  optim::Adam optimizer_;
  Generator gen_;
  std::optional<double> baseline_;
  int64_t step_ = 0;
};

}  // namespace fusenas::nas::enas
