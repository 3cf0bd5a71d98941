// REINFORCE for the ENAS controller: the per-sample policy-gradient loss, gradient averaging over
// a step's samples, the EMA baseline, and the trainer's checkpoint state.
#include "fusenas/nas/enas/reinforce.h"

#include <cmath>
#include <limits>

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/clip_grad.h"

namespace fusenas::nas::enas {
namespace {

const ReinforceConfig& validated(const ReinforceConfig& c) {
  c.validate();
  return c;
}

std::shared_ptr<Controller> checked(std::shared_ptr<Controller> c) {
  FUSENAS_CHECK(c, "ENAS REINFORCE: no controller given");
  return c;
}

nn::StateDict deep_copy(const nn::StateDict& sd) {
  nn::StateDict out;
  for (const auto& [name, t] : sd) out[name] = t.clone();
  return out;
}

}  // namespace

ReinforceConfig ReinforceConfig::macro() {
  ReinforceConfig c;
  c.lr = 1e-3;
  c.samples_per_step = 20;
  return c;
}

void ReinforceConfig::validate() const {
  AdamSection::validate("ENAS REINFORCE: controller");
  FUSENAS_CHECK(entropy_weight >= 0, "ENAS REINFORCE: entropy_weight must not be negative, got {}",
                entropy_weight);
  FUSENAS_CHECK(baseline_decay >= 0 && baseline_decay < 1,
                "ENAS REINFORCE: baseline_decay must lie in [0, 1), got {}", baseline_decay);
  FUSENAS_CHECK(skip_weight >= 0, "ENAS REINFORCE: skip_weight must not be negative, got {}",
                skip_weight);
  FUSENAS_CHECK(!grad_clip || *grad_clip > 0, "ENAS REINFORCE: grad_clip must be positive, got {}",
                grad_clip.value_or(0));
  FUSENAS_CHECK(samples_per_step > 0, "ENAS REINFORCE: samples_per_step must be positive, got {}",
                samples_per_step);
}

ReinforceTrainer::ReinforceTrainer(std::shared_ptr<Controller> controller,
                                   const ReinforceConfig& config, uint64_t seed)
    : controller_(checked(std::move(controller))),
      config_(validated(config)),
      optimizer_(controller_->parameters(), config_.lr, {config_.beta1, config_.beta2}, config_.eps,
                 config_.weight_decay),
      gen_(seed) {}

ReinforceStats ReinforceTrainer::step(const std::function<double(const Sample&)>& reward) {
  const bool macro = controller_->config().space == SearchSpace::kMacro;
  const int n = config_.samples_per_step;
  const double share = 1.0 / n;
  ReinforceStats stats;
  optimizer_.zero_grad();
  for (int i = 0; i < n; ++i) {
    const Sample s = controller_->sample(gen_);
    const double r = reward(s);
    FUSENAS_CHECK(std::isfinite(r), "ENAS REINFORCE: the reward callback returned {}", r);
    const double entropy = s.entropy.item();
    const double total = r + config_.entropy_weight * entropy;
    if (!baseline_) baseline_ = config_.initial_baseline.value_or(total);
    // ENAS moves the baseline first and then takes the advantage against the moved baseline.
    *baseline_ = config_.baseline_decay * *baseline_ + (1.0 - config_.baseline_decay) * total;
    const double advantage = total - *baseline_;
    Tensor loss = scale(s.log_prob, -advantage);
    if (macro) loss = add(loss, scale(s.skip_penalty, config_.skip_weight));
    loss = scale(loss, share);
    loss.backward();

    stats.reward += r * share;
    stats.entropy += entropy * share;
    stats.log_prob += s.log_prob.item() * share;
    stats.advantage += advantage * share;
    stats.loss += loss.item();
    if (macro) {
      const int layers = controller_->config().num_layers;
      const double possible = layers * (layers - 1) / 2.0;
      stats.skip_penalty += s.skip_penalty.item() * share;
      stats.skip_rate += (possible > 0 ? s.skip_count / possible : 0.0) * share;
    }
    stats.archs.push_back(s.arch);
    stats.rewards.push_back(r);
  }
  const auto params = controller_->parameters();
  stats.grad_norm = optim::clip_grad_norm(
      params, config_.grad_clip.value_or(std::numeric_limits<double>::infinity()));
  optimizer_.step();
  stats.baseline = *baseline_;
  stats.step = ++step_;
  return stats;
}

ReinforceState ReinforceTrainer::state() const {
  ReinforceState s;
  s.controller = deep_copy(controller_->state_dict());
  s.optimizer = optimizer_.state_dict();
  s.baseline = baseline_;
  s.step = step_;
  s.generator = gen_.state();
  return s;
}

void ReinforceTrainer::load_state(const ReinforceState& state) {
  // Module and optimizer each check before writing; restore the module if the optimizer part
  // then fails, so a bad state changes nothing.
  const ReinforceState before = this->state();
  controller_->load_state_dict(state.controller, true);
  try {
    optimizer_.load_state_dict(state.optimizer);
  } catch (const Error&) {
    controller_->load_state_dict(before.controller, true);
    throw;
  }
  baseline_ = state.baseline;
  step_ = state.step;
  gen_.set_state(state.generator);
}

void ReinforceTrainer::save(CheckpointWriter& writer, const std::string& prefix) const {
  writer.add_module(prefix + ".controller", *controller_);
  writer.add_optimizer(prefix + ".adam", optimizer_);
  nlohmann::json j = {{"step", step_}, {"generator", to_json(gen_.state())}};
  j["baseline"] = baseline_ ? nlohmann::json(*baseline_) : nlohmann::json(nullptr);
  writer.state()[prefix] = j;
}

void ReinforceTrainer::load(const CheckpointReader& reader, const std::string& prefix) {
  FUSENAS_CHECK(reader.state().contains(prefix),
                "checkpoint has no ENAS controller state under '{}'", prefix);
  const nlohmann::json& j = reader.state()[prefix];
  ReinforceState s;
  try {
    s.step = j.at("step").get<int64_t>();
    s.generator = generator_state_from_json(j.at("generator"));
    if (!j.at("baseline").is_null()) s.baseline = j.at("baseline").get<double>();
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint: malformed ENAS controller state under '{}': {}", prefix, e.what());
  }
  // Read the tensors through the reader's own checks, then load everything at once.
  const ReinforceState before = state();
  try {
    reader.load_module(prefix + ".controller", *controller_);
    reader.load_optimizer(prefix + ".adam", optimizer_);
  } catch (const Error&) {
    load_state(before);
    throw;
  }
  baseline_ = s.baseline;
  step_ = s.step;
  gen_.set_state(s.generator);
}

}  // namespace fusenas::nas::enas
