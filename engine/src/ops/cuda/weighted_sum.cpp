// CUDA launchers for the DARTS MixedOp weighted sum.
#include "ops/cuda/weighted_sum.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/weighted_sum.h"

namespace fusenas::cuda {

void weighted_sum_forward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& out) {
  std::vector<const void*> ptrs;
  // Every input read once, the output written once; a multiply-add per input element.
  LaunchCost cost(bytes_of(out) + bytes_of(weights), 0);
  for (const auto& x : xs) {
    ptrs.push_back(x.raw_data());
    cost += LaunchCost(bytes_of(x), 2 * x.numel());
  }
  FUSENAS_LAUNCH(kernels::weighted_sum_forward(scalar_type(out.dtype()), out.numel(),
                                               static_cast<int>(ptrs.size()), ptrs.data(),
                                               weights.raw_data(), out.raw_data(), stream_for(out)),
                 "weighted_sum", cost);
}

void weighted_sum_backward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& gy,
                           const std::vector<Tensor>& gxs, const Tensor& gweights) {
  const bool dots = gweights.defined();
  const int count = static_cast<int>(gxs.size());
  std::vector<const void*> x_ptrs(count, nullptr);
  std::vector<void*> gx_ptrs(count, nullptr);
  for (int i = 0; i < count; ++i) {
    if (dots) x_ptrs[i] = xs[i].raw_data();
    if (gxs[i].defined()) gx_ptrs[i] = gxs[i].raw_data();
  }
  Tensor partials;
  if (dots) {
    partials = Tensor::empty({kernels::weighted_sum_backward_partials(gy.numel(), count)},
                             gy.options().with_dtype(DType::Float64));
  }
  // gy read once; per input its gradient written (w * gy: one multiply per element) and, for
  // the weights' gradient, the input read (a multiply-add per element); the partials round trip.
  LaunchCost cost(bytes_of(gy) + bytes_of(weights) + bytes_of(gweights) + 2 * bytes_of(partials),
                  0);
  for (int i = 0; i < count; ++i) {
    if (gxs[i].defined()) cost += LaunchCost(bytes_of(gxs[i]), gy.numel());
    if (dots) cost += LaunchCost(bytes_of(xs[i]), 2 * gy.numel());
  }
  FUSENAS_LAUNCH(kernels::weighted_sum_backward(
                     scalar_type(gy.dtype()), gy.numel(), count, x_ptrs.data(), weights.raw_data(),
                     gy.raw_data(), gx_ptrs.data(), dots ? gweights.raw_data() : nullptr,
                     dots ? partials.data<double>() : nullptr, stream_for(gy)),
                 "weighted_sum backward", cost);
}

}  // namespace fusenas::cuda
