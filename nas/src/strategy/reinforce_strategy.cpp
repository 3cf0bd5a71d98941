// REINFORCE over the Zoph & Le controller: proposals from the policy, the moving-average baseline
// and the ADAM update after every m told children.
#include "fusenas/nas/strategy/reinforce_strategy.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::strategy {
namespace {

// The controller's initial weights come from a generator of their own, so that asks (which read
// per-ask windows of the search's seed) and initialisation never share numbers.
constexpr uint64_t kControllerInitSalt = 0x5a0f4c3e9b1d2a77ULL;

}  // namespace

std::string rl_reward_name(RlReward r) {
  return r == RlReward::kAccuracy ? "accuracy" : "max5-cubed";
}

RlReward parse_rl_reward(const std::string& name) {
  if (name == "accuracy") return RlReward::kAccuracy;
  if (name == "max5-cubed") return RlReward::kMax5Cubed;
  FUSENAS_FAIL("unknown RL reward '{}' (known: accuracy, max5-cubed)", name);
}

int default_rl_children(int64_t budget_trials) {
  return static_cast<int>(std::clamp<int64_t>(budget_trials / 10, 2, 8));
}

void RlOptions::validate() const {
  FUSENAS_CHECK(children_per_step > 0, "rl: children per step must be positive, got {}",
                children_per_step);
  FUSENAS_CHECK(lr > 0 && std::isfinite(lr), "rl: lr must be positive, got {}", lr);
  FUSENAS_CHECK(baseline_decay >= 0 && baseline_decay < 1,
                "rl: baseline decay must lie in [0, 1), got {}", baseline_decay);
  controller.validate();
}

ReinforceStrategy::ReinforceStrategy(const space::Space& space, uint64_t seed,
                                     const RlOptions& options)
    : Strategy(space, seed), options_(options) {
  options_.validate();
  Generator init(seed ^ kControllerInitSalt);
  controller_ = std::make_shared<ZophLeController>(options_.controller, init);
  adam_ = std::make_unique<optim::Adam>(controller_->parameters(), options_.lr);
}

double ReinforceStrategy::reward_of(std::optional<double> score) const {
  if (!score) return 0.0;  // a child that failed is the worst outcome the controller can cause
  const double acc = *score / 100.0;
  return options_.reward == RlReward::kMax5Cubed ? acc * acc * acc : acc;
}

space::Point ReinforceStrategy::propose(Generator& gen) {
  NoGradGuard no_grad;
  return controller_->sample(gen).point;
}

void ReinforceStrategy::observed(const Observation& o) {
  batch_.push_back(o);
  if (static_cast<int>(batch_.size()) == options_.children_per_step) update();
}

void ReinforceStrategy::update() {
  std::vector<double> rewards;
  double mean_reward = 0;
  for (const Observation& o : batch_) {
    rewards.push_back(reward_of(o.score));
    mean_reward += rewards.back();
  }
  mean_reward /= static_cast<double>(rewards.size());
  if (!baseline_) baseline_ = mean_reward;
  const double b = *baseline_;

  adam_->zero_grad();
  const double m = static_cast<double>(batch_.size());
  RlStep st;
  for (size_t k = 0; k < batch_.size(); ++k) {
    const PolicySample s = controller_->evaluate(batch_[k].point);
    st.mean_log_prob += s.log_prob.item() / m;
    st.entropy += s.entropy.item() / m;
    scale(s.log_prob, -(rewards[k] - b) / m).backward();  // gradients accumulate over the batch
  }
  adam_->step();
  for (double r : rewards)
    *baseline_ = options_.baseline_decay * *baseline_ + (1 - options_.baseline_decay) * r;
  st.step = static_cast<int64_t>(steps_.size()) + 1;
  st.mean_reward = mean_reward;
  st.baseline = b;
  steps_.push_back(st);
  batch_.clear();
}

}  // namespace fusenas::nas::strategy
