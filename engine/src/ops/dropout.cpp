// dropout (elementwise) and drop_path (whole samples): Bernoulli keep masks drawn from an explicit
// Generator by counter (see ops/cpu/dropout.h), so CPU and GPU draw the same mask for a seed.
// The mask is saved as bytes; the backward is g * mask * scale.
#include "ops/cpu/dropout.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/dropout.h"

namespace fusenas {
namespace {

// One keep decision per element (dropout) or per sample along axis 0 (drop_path).
Tensor masked(const char* name, const Tensor& input, double p, bool training, Generator& gen,
              bool per_sample) {
  check_defined(name, input, "input");
  check_floating(name, input);
  FUSENAS_CHECK(p >= 0.0 && p <= 1.0, "{}: p must be in [0, 1], got {} (input {})", name, p,
                shape_str(input.shape()));
  FUSENAS_CHECK(!per_sample || input.dim() >= 1, "{}: input needs a sample axis, got shape {}",
                name, shape_str(input.shape()));
  if (!training || p == 0.0) return input;
  if (p == 1.0) {
    // Every unit dropped: nothing to draw, and the gradient is zero everywhere.
    Tensor out = zeros(input.shape(), input.options());
    if (needs_grad({&input})) {
      record(name, {input}, {out}, [shape = input.shape()](const BackwardContext& ctx) {
        return std::vector{zeros(shape, ctx.grad().options())};
      });
    }
    return out;
  }
  const Tensor x = input.contiguous();
  const int64_t units = per_sample ? x.shape()[0] : x.numel();
  const uint64_t first_block = gen.reserve(static_cast<uint64_t>((units + 3) / 4));
  Tensor mask = Tensor::empty({units}, x.options().with_dtype(DType::UInt8));
  Tensor y = Tensor::empty(x.shape(), x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(per_sample ? cuda::drop_path_forward(x, y, mask, p, gen.seed(), first_block)
                               : cuda::dropout_forward(x, y, mask, p, gen.seed(), first_block));
  } else if (per_sample) {
    cpu::drop_path_forward(x, y, mask, p, gen.seed(), first_block);
  } else {
    cpu::dropout_forward(x, y, mask, p, gen.seed(), first_block);
  }
  if (needs_grad({&input})) {
    record(name, {input}, {y},
           [mask = mask.detach(), scale = 1.0 / (1.0 - p), per_sample](const BackwardContext& ctx) {
             const Tensor g = ctx.grad().contiguous();
             Tensor gx = Tensor::empty(g.shape(), g.options());
             if (g.is_cuda()) {
               FUSENAS_ON_CUDA(per_sample ? cuda::drop_path_backward(g, mask, gx, scale)
                                          : cuda::dropout_backward(g, mask, gx, scale));
             } else if (per_sample) {
               cpu::drop_path_backward(g, mask, gx, scale);
             } else {
               cpu::dropout_backward(g, mask, gx, scale);
             }
             return std::vector{gx};
           });
  }
  return y;
}

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  return masked("dropout", x, p, training, gen, false);
}

Tensor drop_path(const Tensor& x, double p, bool training, Generator& gen) {
  return masked("drop_path", x, p, training, gen, true);
}

}  // namespace fusenas
