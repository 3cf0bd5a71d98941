// Zoph & Le's NAS with reinforcement learning (2017) as an ask/tell strategy: the RNN controller
// proposes each child, the trained child's accuracy is the reward, and REINFORCE with a moving-
// average baseline updates the controller after every m children.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/engine/optim/adam.h"
#include "fusenas/nas/strategy/strategy.h"
#include "fusenas/nas/strategy/zoph_le_controller.h"

namespace fusenas::nas::strategy {

// How a child's score becomes its reward (scores are search-val accuracies in %).
enum class RlReward {
  kAccuracy,   // R = the final accuracy as a fraction
  kMax5Cubed,  // R = (max accuracy of the last 5 epochs)^3, Zoph & Le sec. 4.1
};
// "accuracy", "max5-cubed"; the parser throws naming both for anything else.
std::string rl_reward_name(RlReward r);
RlReward parse_rl_reward(const std::string& name);

struct RlOptions {
  // m: children per controller update, one replica's batch. The paper's replicas sample m = 8
  // (sec. 4.1: 20 parameter-server shards, 100 replicas, 8 children each).
  int children_per_step = 8;
  double lr = 6e-4;              // ADAM, sec. 4.1; betas and eps are Adam's usual defaults
  double baseline_decay = 0.95;  // the paper uses an EMA of past rewards without its decay: ours
  RlReward reward = RlReward::kAccuracy;
  ZophLeControllerConfig controller;  // choices: the space's options

  // Throws fusenas::Error naming the field for a non-positive count or rate, or a decay outside
  // [0, 1).
  void validate() const;
};

// m for a budget: the paper's 8 from 80 trials up (10 updates or more); below that budget / 10,
// at least 2, so that a short search still updates its controller about 10 times.
int default_rl_children(int64_t budget_trials);

// One controller update, for logs and tests.
struct RlStep {
  int64_t step = 0;  // updates so far, this one included
  double mean_reward = 0;
  double baseline = 0;  // the baseline the advantages were taken against
  double mean_log_prob = 0;
  double entropy = 0;  // mean summed entropy of the batch's decisions
};

// ask() samples the controller (no duplicates are avoided: the policy's own samples are what
// REINFORCE needs). tell() collects rewards; every m-th tell, in tell order, updates the
// controller with (1/m) sum_k grad log P(a_k) (R_k - b) by ADAM, b the EMA of earlier rewards
// (the first batch's mean before any). A failed child's reward is 0. With children trained in
// parallel, children sampled before an update can be told after it: the gradient is then taken
// at the current parameters, and a resumed search that replays the tells in the same order
// rebuilds the same controller.
class ReinforceStrategy : public Strategy {
 public:
  // The space must be a zoph-le space with the controller's choices (the caller builds both from
  // the same options).
  ReinforceStrategy(const space::Space& space, uint64_t seed, const RlOptions& options);
  std::string name() const override { return "rl"; }
  const RlOptions& options() const { return options_; }
  ZophLeController& controller() { return *controller_; }
  const std::vector<RlStep>& steps() const { return steps_; }
  std::optional<double> baseline() const { return baseline_; }
  // A score in % as the reward it gives (the final score or the max of the last 5 epochs: the
  // searcher tells the one the reward needs).
  double reward_of(std::optional<double> score) const;

 protected:
  space::Point propose(Generator& gen) override;
  void observed(const Observation& o) override;

 private:
  void update();

  RlOptions options_;
  std::shared_ptr<ZophLeController> controller_;
  std::unique_ptr<optim::Adam> adam_;
  std::vector<Observation> batch_;
  std::optional<double> baseline_;
  std::vector<RlStep> steps_;
};

}  // namespace fusenas::nas::strategy
