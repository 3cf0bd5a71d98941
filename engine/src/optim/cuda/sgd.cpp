// CUDA launcher for the fused SGD update: every stepping parameter of a dtype in one multi-tensor
// launch (a few when there are many parameters).
#include "optim/cuda/sgd.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/optimizers.h"

namespace fusenas::cuda {

void sgd_step(const SgdTensors& t, const SgdHyper& h) {
  if (t.params.empty()) return;
  const kernels::SgdConfig config{
      h.lr,
      h.momentum,
      h.dampening,
      h.weight_decay,
      h.nesterov,
      h.device_lr.defined() ? static_cast<const double*>(h.device_lr.raw_data()) : nullptr};
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    std::vector<kernels::SgdTensor> list;
    int64_t elements = 0, momentum_elements = 0;
    for (size_t k = 0; k < t.params.size(); ++k) {
      const Tensor& p = t.params[k];
      FUSENAS_CHECK(p.dtype() == DType::Float32 || p.dtype() == DType::Float64,
                    "SGD: parameter {} has dtype {} (CUDA updates need float32 or float64)",
                    shape_str(p.shape()), dtype_name(p.dtype()));
      if (p.dtype() != dtype) continue;
      kernels::SgdTensor e;
      e.param = p.raw_data();
      e.grad = t.grads[k].raw_data();
      e.momentum = t.momentum_buffers.empty() ? nullptr : t.momentum_buffers[k].raw_data();
      e.numel = p.numel();
      e.first_step = t.first_step.empty() || t.first_step[k] != 0;
      list.push_back(e);
      elements += e.numel;
      if (e.momentum != nullptr) momentum_elements += e.numel;
    }
    if (list.empty()) continue;
    FUSENAS_LAUNCH(
        kernels::sgd_multi_tensor(scalar_type(dtype), list.data(), static_cast<int>(list.size()),
                                  config, stream_for(t.params.front())),
        "sgd_multi_tensor",
        // param read and written, grad read, the momentum buffer read and written where there is
        // one; weight decay, momentum and the step, 2 FLOPs each.
        LaunchCost((3 * elements + 2 * momentum_elements) * static_cast<int64_t>(dtype_size(dtype)),
                   6 * elements));
  }
}

}  // namespace fusenas::cuda
