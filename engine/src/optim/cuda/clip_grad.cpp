// CUDA gradient clipping: one sum-of-squares pass and one scaling pass over all gradients.
#include "optim/cuda/clip_grad.h"

#include <algorithm>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/kernels/optimizers.h"

namespace fusenas::cuda {

Tensor clip_grad_norm(const std::vector<Tensor>& grads, double max_norm) {
  const Tensor& first = grads.front();
  std::vector<kernels::GradTensor> list;
  for (const Tensor& g : grads) list.push_back({g.raw_data(), g.numel()});
  const int count = static_cast<int>(list.size());
  const kernels::ScalarType type = scalar_type(first.dtype());
  const Tensor partials =
      Tensor::empty({std::max<int64_t>(kernels::sum_squares_partials(list.data(), count), 1)},
                    first.options().with_dtype(DType::Float64));
  const Tensor sum_sq = Tensor::empty({}, first.options());
  FUSENAS_LAUNCH(
      kernels::sum_squares_multi_tensor(type, list.data(), count, partials.data<double>(),
                                        sum_sq.raw_data(), stream_for(first)),
      "clip_grad_norm squares");
  const Tensor norm = sqrt(sum_sq);
  // Multiplying by exactly 1 when no clipping is due leaves the gradients bit-for-bit unchanged.
  const Tensor coef =
      clamp_max(div(full({}, max_norm, norm.options()), add_scalar(norm, 1e-6)), 1.0);
  FUSENAS_LAUNCH(
      kernels::scale_multi_tensor(type, list.data(), count, coef.raw_data(), stream_for(first)),
      "clip_grad_norm scale");
  return norm;
}

}  // namespace fusenas::cuda
