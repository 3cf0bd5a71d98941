// weighted_sum: sum_i weights[i] * xs[i], the DARTS MixedOp form. Hot: one fused kernel each way,
// differentiable in every xs[i] and in the weights.
#include "ops/cpu/weighted_sum.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/weighted_sum.h"

namespace fusenas {

Tensor weighted_sum(const std::vector<Tensor>& xs, const Tensor& weights) {
  FUSENAS_CHECK(!xs.empty(), "weighted_sum: needs at least one tensor");
  for (const auto& x : xs) check_defined("weighted_sum", x, "input");
  check_defined("weighted_sum", weights, "weights");
  std::vector<Tensor> all = xs;
  all.push_back(weights);
  check_same_device_dtype("weighted_sum", all);
  check_floating("weighted_sum", weights);
  const int64_t count = static_cast<int64_t>(xs.size());
  for (const auto& x : xs) {
    FUSENAS_CHECK(x.shape() == xs[0].shape(),
                  "weighted_sum: inputs must have one shape, got {} (weights {})", shapes_str(xs),
                  shape_str(weights.shape()));
  }
  FUSENAS_CHECK(weights.dim() == 1 && weights.shape()[0] == count,
                "weighted_sum: weights must be [{}] for {} inputs, got weights {} (inputs {})",
                count, count, shape_str(weights.shape()), shapes_str(xs));

  std::vector<Tensor> cx(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) cx[i] = xs[i].contiguous();
  const Tensor w = weights.contiguous();
  Tensor out = Tensor::empty(cx[0].shape(), cx[0].options());
  if (out.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::weighted_sum_forward(cx, w, out));
  } else {
    cpu::weighted_sum_forward(cx, w, out);
  }
  if (needs_grad(all)) {
    // The inputs are only needed for the weights' gradient.
    std::vector<Tensor> saved;
    if (weights.requires_grad()) {
      saved.reserve(cx.size());
      for (const auto& x : cx) saved.push_back(x.detach());
    }
    record("weighted_sum", all, {out},
           [saved = std::move(saved), w = w.detach(), count](const BackwardContext& ctx) {
             const Tensor g = ctx.grad().contiguous();
             std::vector<Tensor> grads(count + 1);
             for (int64_t i = 0; i < count; ++i) {
               if (ctx.needs(i)) grads[i] = Tensor::empty(g.shape(), g.options());
             }
             const std::vector<Tensor> gxs(grads.begin(), grads.begin() + count);
             if (ctx.needs(count)) grads[count] = Tensor::empty({count}, g.options());
             if (g.is_cuda()) {
               FUSENAS_ON_CUDA(cuda::weighted_sum_backward(saved, w, g, gxs, grads[count]));
             } else {
               cpu::weighted_sum_backward(saved, w, g, gxs, grads[count]);
             }
             return grads;
           });
  }
  return out;
}

}  // namespace fusenas
