// optim::SGD: gathers the stepping parameters and their momentum buffers, then runs the fused
// update for their device.
#include "fusenas/engine/optim/sgd.h"

#include <cmath>

#include "core/dispatch.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "optim/cpu/sgd.h"
#include "optim/cuda/sgd.h"

namespace fusenas::optim {

SGD::SGD(std::vector<Tensor> params, double lr, double momentum, double weight_decay, bool nesterov,
         double dampening)
    : SGD(std::move(params), lr, SGDOptions{momentum, weight_decay, nesterov, dampening}) {}

SGD::SGD(std::vector<Tensor> params, double lr, const SGDOptions& options)
    : Optimizer(std::move(params), lr), options_(options) {
  FUSENAS_CHECK(std::isfinite(options.momentum) && options.momentum >= 0,
                "SGD: invalid momentum {}", options.momentum);
  FUSENAS_CHECK(std::isfinite(options.weight_decay) && options.weight_decay >= 0,
                "SGD: invalid weight_decay {}", options.weight_decay);
  FUSENAS_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
                "SGD: Nesterov momentum requires momentum > 0 and zero dampening (got momentum "
                "{}, dampening {})",
                options.momentum, options.dampening);
  if (options.momentum != 0) declare_slot("momentum_buffer");
}

void SGD::step() {
  NoGradGuard no_grad;
  Active a = active();
  if (a.params.empty()) return;
  SgdTensors t{a.params, a.grads, {}, {}};
  if (options_.momentum != 0) {
    auto& buffers = slots_.at("momentum_buffer");
    for (size_t k = 0; k < a.index.size(); ++k) {
      Tensor& buf = buffers[a.index[k]];
      t.first_step.push_back(!buf.defined());
      if (!buf.defined()) buf = Tensor::empty(a.params[k].shape(), a.params[k].options());
      t.momentum_buffers.push_back(buf);
    }
  }
  const SgdHyper h{lr(),
                   options_.momentum,
                   options_.dampening,
                   options_.weight_decay,
                   options_.nesterov,
                   scalars_on_device() ? device_lr() : Tensor()};
  if (a.params.front().is_cuda()) {
    FUSENAS_ON_CUDA(cuda::sgd_step(t, h));
  } else {
    cpu::sgd_step(t, h);
  }
}

}  // namespace fusenas::optim
