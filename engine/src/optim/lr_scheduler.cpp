// optim::CosineAnnealingLR. torch steps a recursive form that equals this closed form up to
// rounding; the closed form cannot drift and restores exactly from last_epoch alone.
#include "fusenas/engine/optim/lr_scheduler.h"

#include <cmath>
#include <numbers>

namespace fusenas::optim {

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : optimizer_(optimizer), T_max_(T_max), eta_min_(eta_min), base_lr_(optimizer.lr()) {
  FUSENAS_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be positive, got {}", T_max);
}

double CosineAnnealingLR::lr_at(int64_t epoch) const {
  const double phase = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(T_max_);
  return eta_min_ + (base_lr_ - eta_min_) * (1 + std::cos(phase)) / 2;
}

void CosineAnnealingLR::step() {
  ++last_epoch_;
  optimizer_.set_lr(lr_at(last_epoch_));
}

void CosineAnnealingLR::load_state_dict(const SchedulerState& state) {
  FUSENAS_CHECK(state.last_epoch >= 0, "CosineAnnealingLR: invalid last_epoch {}",
                state.last_epoch);
  last_epoch_ = state.last_epoch;
  base_lr_ = state.base_lr;
  optimizer_.set_lr(lr_at(last_epoch_));
}

}  // namespace fusenas::optim
