// optim::ASGD: torch.optim.ASGD (averaged SGD, Polyak & Juditsky), the optimizer AWD-LSTM and
// DARTS's recurrent training switch to (NT-ASGD), with its running average of the iterates.
#pragma once

#include "fusenas/engine/optim/optimizer.h"

namespace fusenas::optim {

struct ASGDOptions {
  double lambd = 1e-4;  // decay term of eta
  double alpha = 0.75;  // power of eta's decay
  double t0 = 1e6;      // the step after which averaging starts
  double weight_decay = 0;
};

class ASGD : public Optimizer {
 public:
  // Per stepping parameter, as torch 1.13's single-tensor ASGD: step += 1; d = g + wd*p;
  // p *= 1 - lambd*eta; p -= eta*d; ax = p when mu == 1, else ax += mu*(p - ax); then
  // eta = lr / (1 + lambd*lr*step)^alpha and mu = 1 / max(1, step - t0). eta and mu start at lr
  // and 1, so a step uses the eta set after the one before it (an lr changed for one step, as
  // AWD-LSTM scales it by the window length, acts one step late). State per parameter: "ax"
  // (tensor) and "step", "eta", "mu" (counters).
  ASGD(std::vector<Tensor> params, double lr, const ASGDOptions& options);

  void step() override;
  const ASGDOptions& options() const { return options_; }
  // The averaged iterate of parameter `index` (undefined before its first step).
  Tensor average(size_t index) const { return state_tensor(index, "ax"); }

 private:
  ASGDOptions options_;
};

}  // namespace fusenas::optim
