// optim::Adam: torch.optim.Adam's update (L2 weight decay added to the gradient, no AMSGrad).
#pragma once

#include <utility>

#include "fusenas/engine/optim/optimizer.h"

namespace fusenas::optim {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
};

class Adam : public Optimizer {
 public:
  // Per stepping parameter, with t its own step count: g += wd*p; m = b1*m + (1-b1)*g;
  // v = b2*v + (1-b2)*g^2; p -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps).
  // State "exp_avg", "exp_avg_sq" and the counter "step" per parameter.
  explicit Adam(std::vector<Tensor> params, double lr = 1e-3,
                std::pair<double, double> betas = {0.9, 0.999}, double eps = 1e-8,
                double weight_decay = 0);

  void step() override;
  const AdamOptions& options() const { return options_; }

 private:
  AdamOptions options_;
};

}  // namespace fusenas::optim
