// embedding: row lookup of weight [V, D] by int64 indices of any shape -> [..., D]. Only the
// weight is differentiable; its gradient is a scatter-add of the output gradient. An index outside
// [0, V) throws at once on the CPU, and at the next read of the device on CUDA.
#include "ops/cpu/embedding.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/embedding.h"

namespace fusenas {

Tensor embedding(const Tensor& input_weight, const Tensor& input_indices) {
  check_defined("embedding", input_weight, "weight");
  check_defined("embedding", input_indices, "indices");
  check_floating("embedding", input_weight);
  FUSENAS_CHECK(input_weight.dim() == 2, "embedding: weight must be [V, D], got weight {} and {}",
                shape_str(input_weight.shape()), shape_str(input_indices.shape()));
  FUSENAS_CHECK(input_indices.dtype() == DType::Int64,
                "embedding: indices must be int64, got {} (weight {}, indices {})",
                dtype_name(input_indices.dtype()), shape_str(input_weight.shape()),
                shape_str(input_indices.shape()));
  FUSENAS_CHECK(input_indices.device() == input_weight.device(),
                "embedding: weight on {} but indices on {} (weight {}, indices {})",
                input_weight.device().str(), input_indices.device().str(),
                shape_str(input_weight.shape()), shape_str(input_indices.shape()));
  const int64_t v = input_weight.shape()[0];
  const Tensor weight = input_weight.contiguous();
  const Tensor indices = input_indices.contiguous();
  Shape out_shape = indices.shape();
  out_shape.push_back(weight.shape()[1]);
  Tensor out = Tensor::empty(out_shape, weight.options());
  const auto bad_index =
      [v, shapes = fmt::format("(weight {}, indices {})", shape_str(weight.shape()),
                               shape_str(indices.shape()))](int64_t position, int64_t index) {
        return fmt::format("embedding: index {} at flat position {} is outside [0, {}) {}", index,
                           position, v, shapes);
      };
  if (weight.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::embedding_forward(weight, indices, out, bad_index));
  } else {
    const int64_t bad = cpu::embedding_forward(weight, indices, out);
    FUSENAS_CHECK(bad < 0, "{}", bad_index(bad, indices.data<int64_t>()[bad]));
  }
  if (needs_grad({&input_weight})) {
    record("embedding", {input_weight}, {out},
           [indices = indices.detach(), wshape = weight.shape()](const BackwardContext& ctx) {
             const Tensor g = ctx.grad().contiguous();
             Tensor gw = Tensor::empty(wshape, g.options());
             if (g.is_cuda()) {
               FUSENAS_ON_CUDA(cuda::embedding_backward(g, indices, gw));
             } else {
               cpu::embedding_backward(g, indices, gw);
             }
             return std::vector{gw};
           });
  }
  return out;
}

}  // namespace fusenas
