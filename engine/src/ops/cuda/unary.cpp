// CUDA launchers for pointwise unary ops.
#include "ops/cuda/unary.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/elementwise.h"

namespace fusenas::cuda {

void unary_forward(UnaryKind kind, const Tensor& x, const Tensor& y, double param) {
  FUSENAS_LAUNCH(
      kernels::unary_forward(static_cast<kernels::UnaryOp>(kind), scalar_type(x.dtype()), x.numel(),
                             x.raw_data(), y.raw_data(), param, stream_for(x)),
      // One operation per element: a transcendental (exp, tanh) counts 1 too; these kernels
      // are bound by memory on any card, so the choice does not move the model.
      "unary_forward", LaunchCost(bytes_of(x) + bytes_of(y), x.numel()));
}

void unary_backward(UnaryKind kind, const Tensor& gy, const Tensor& saved, const Tensor& gx,
                    double param) {
  FUSENAS_LAUNCH(
      kernels::unary_backward(
          static_cast<kernels::UnaryOp>(kind), scalar_type(gy.dtype()), gy.numel(), gy.raw_data(),
          saved.defined() ? saved.raw_data() : nullptr, gx.raw_data(), param, stream_for(gy)),
      "unary_backward", LaunchCost(bytes_of(gy) + bytes_of(saved) + bytes_of(gx), 2 * gy.numel()));
}

}  // namespace fusenas::cuda
