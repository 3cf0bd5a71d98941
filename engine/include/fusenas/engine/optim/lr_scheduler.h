// optim::CosineAnnealingLR: torch.optim.lr_scheduler.CosineAnnealingLR in closed form.
#pragma once

#include <cstdint>

#include "fusenas/engine/optim/optimizer.h"

namespace fusenas::optim {

struct SchedulerState {
  int64_t last_epoch = 0;
  double base_lr = 0;
};

class CosineAnnealingLR {
 public:
  // base_lr is the optimizer's lr now; last_epoch starts at 0 (torch's constructor step).
  // Holds a reference: the optimizer must outlive the scheduler.
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

  // last_epoch += 1, then sets the optimizer's lr to
  // eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2.
  void step();
  // The closed form at `epoch` (periodic past T_max, like torch).
  double lr_at(int64_t epoch) const;
  double last_lr() const { return optimizer_.lr(); }
  int64_t last_epoch() const { return last_epoch_; }
  double base_lr() const { return base_lr_; }

  SchedulerState state_dict() const { return {last_epoch_, base_lr_}; }
  // Restores the position and sets the optimizer's lr to lr_at(last_epoch).
  void load_state_dict(const SchedulerState& state);

 private:
  Optimizer& optimizer_;
  int64_t T_max_;
  double eta_min_;
  double base_lr_;
  int64_t last_epoch_ = 0;
};

}  // namespace fusenas::optim
