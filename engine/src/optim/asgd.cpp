// optim::ASGD: torch 1.13's single-tensor ASGD update and iterate averaging, through the list
// operations of multi_tensor.h (so one code path serves the CPU and CUDA).
#include "fusenas/engine/optim/asgd.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/optim/multi_tensor.h"

namespace fusenas::optim {
namespace {

Tensor factor_like(const Tensor& t, double value) {
  return full({}, value, t.options());
}

// torch keeps eta and mu in float32 tensors (torch.tensor of a Python float), so a float64
// parameter still steps by the float32-rounded eta; rounding here keeps the two equal.
double as_float(double x) {
  return static_cast<double>(static_cast<float>(x));
}

}  // namespace

ASGD::ASGD(std::vector<Tensor> params, double lr, const ASGDOptions& options)
    : Optimizer(std::move(params), lr), options_(options) {
  FUSENAS_CHECK(std::isfinite(options.lambd) && options.lambd >= 0, "ASGD: invalid lambd {}",
                options.lambd);
  FUSENAS_CHECK(std::isfinite(options.alpha) && options.alpha >= 0, "ASGD: invalid alpha {}",
                options.alpha);
  FUSENAS_CHECK(std::isfinite(options.t0) && options.t0 >= 0, "ASGD: invalid t0 {}", options.t0);
  FUSENAS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0,
                "ASGD: invalid weight_decay {}", options.weight_decay);
  declare_slot("ax");
  declare_counter("step");
  declare_counter("eta");
  declare_counter("mu");
}

void ASGD::step() {
  FUSENAS_CHECK(!scalars_on_device(), "ASGD keeps its eta and mu on the host");
  NoGradGuard no_grad;
  Active a = active();
  auto& averages = slots_.at("ax");
  auto& steps = counters_.at("step");
  auto& etas = counters_.at("eta");
  auto& mus = counters_.at("mu");
  for (size_t k = 0; k < a.index.size(); ++k) {
    const size_t i = a.index[k];
    const Tensor& p = a.params[k];
    if (steps[i] == 0) {  // torch creates the state at the first step, from the lr of that step
      averages[i] = zeros_like(p);
      etas[i] = as_float(lr());
      mus[i] = 1;
    }
    steps[i] += 1;
    const double eta = etas[i];
    // p(1 - lambd eta) - eta (g + wd p), with the decay and the weight decay in one scale.
    const double keep = 1 - options_.lambd * eta - eta * options_.weight_decay;
    if (keep != 1) scale_({p}, factor_like(p, keep));
    add_({p}, {a.grads[k]}, -eta);
    if (mus[i] != 1) {
      scale_({averages[i]}, factor_like(p, 1 - mus[i]));
      add_({averages[i]}, {p}, mus[i]);
    } else {
      copy_({averages[i]}, {p});
    }
    etas[i] = as_float(lr() / std::pow(1 + options_.lambd * lr() * steps[i], options_.alpha));
    mus[i] = as_float(1 / std::max(1.0, steps[i] - options_.t0));
  }
}

}  // namespace fusenas::optim
