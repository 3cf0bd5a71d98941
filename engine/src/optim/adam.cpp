// optim::Adam: gathers the stepping parameters, their moments and step counts, then runs the
// fused update for their device.
#include "fusenas/engine/optim/adam.h"

#include <cmath>

#include "core/dispatch.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "optim/cpu/adam.h"
#include "optim/cuda/adam.h"

namespace fusenas::optim {

Adam::Adam(std::vector<Tensor> params, double lr, std::pair<double, double> betas, double eps,
           double weight_decay)
    : Optimizer(std::move(params), lr), options_{betas.first, betas.second, eps, weight_decay} {
  const AdamOptions& options = options_;
  FUSENAS_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
                "Adam: betas must lie in [0, 1), got ({}, {})", options.beta1, options.beta2);
  FUSENAS_CHECK(std::isfinite(options.eps) && options.eps >= 0, "Adam: invalid eps {}",
                options.eps);
  FUSENAS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0,
                "Adam: invalid weight_decay {}", options.weight_decay);
  declare_slot("exp_avg");
  declare_slot("exp_avg_sq");
  declare_counter("step");
}

void Adam::step() {
  NoGradGuard no_grad;
  Active a = active();
  if (a.params.empty()) return;
  AdamTensors t{a.params, a.grads, {}, {}, {}};
  auto& exp_avgs = slots_.at("exp_avg");
  auto& exp_avg_sqs = slots_.at("exp_avg_sq");
  auto& steps = counters_.at("step");
  for (size_t k = 0; k < a.index.size(); ++k) {
    const size_t i = a.index[k];
    if (!exp_avgs[i].defined()) exp_avgs[i] = zeros_like(a.params[k]);
    if (!exp_avg_sqs[i].defined()) exp_avg_sqs[i] = zeros_like(a.params[k]);
    steps[i] += 1;
    t.exp_avgs.push_back(exp_avgs[i]);
    t.exp_avg_sqs.push_back(exp_avg_sqs[i]);
    t.steps.push_back(steps[i]);
  }
  AdamHyper h{lr(), options_.beta1, options_.beta2, options_.eps, options_.weight_decay, {}, {}};
  if (scalars_on_device()) {
    FUSENAS_CHECK(a.index.size() == params().size(),
                  "Adam: with its scalars on the device every parameter must step every time ({} "
                  "of {} have a gradient)",
                  a.index.size(), params().size());
    h.device_lr = device_lr();
    h.device_step = advance_device_counter("step");
  }
  if (a.params.front().is_cuda()) {
    FUSENAS_ON_CUDA(cuda::adam_step(t, h));
  } else {
    cpu::adam_step(t, h);
  }
}

}  // namespace fusenas::optim
