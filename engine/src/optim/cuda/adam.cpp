// CUDA launcher for the fused Adam update: every stepping parameter of a dtype in one multi-tensor
// launch (a few when there are many parameters), each with its own bias corrections.
#include "optim/cuda/adam.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/optimizers.h"

namespace fusenas::cuda {

void adam_step(const AdamTensors& t, const AdamHyper& h) {
  if (t.params.empty()) return;
  auto device_scalar = [](const Tensor& t) {
    return t.defined() ? static_cast<const double*>(t.raw_data()) : nullptr;
  };
  const kernels::AdamConfig config{h.lr,
                                   h.beta1,
                                   h.beta2,
                                   h.eps,
                                   h.weight_decay,
                                   device_scalar(h.device_lr),
                                   device_scalar(h.device_step)};
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    std::vector<kernels::AdamTensor> list;
    int64_t elements = 0;
    for (size_t k = 0; k < t.params.size(); ++k) {
      const Tensor& p = t.params[k];
      FUSENAS_CHECK(p.dtype() == DType::Float32 || p.dtype() == DType::Float64,
                    "Adam: parameter {} has dtype {} (CUDA updates need float32 or float64)",
                    shape_str(p.shape()), dtype_name(p.dtype()));
      if (p.dtype() != dtype) continue;
      kernels::AdamTensor e;
      e.param = p.raw_data();
      e.grad = t.grads[k].raw_data();
      e.exp_avg = t.exp_avgs[k].raw_data();
      e.exp_avg_sq = t.exp_avg_sqs[k].raw_data();
      e.numel = p.numel();
      e.step = t.steps[k];
      list.push_back(e);
      elements += e.numel;
    }
    if (list.empty()) continue;
    FUSENAS_LAUNCH(
        kernels::adam_multi_tensor(scalar_type(dtype), list.data(), static_cast<int>(list.size()),
                                   config, stream_for(t.params.front())),
        "adam_multi_tensor",
        // Per element: param, exp_avg and exp_avg_sq read and written, grad read (7 values);
        // weight decay, both moments, the bias-corrected square root and the step, about 15 FLOPs.
        LaunchCost(7 * elements * static_cast<int64_t>(dtype_size(dtype)), 15 * elements));
  }
}

}  // namespace fusenas::cuda
