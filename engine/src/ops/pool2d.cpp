// NHWC pooling: max_pool2d, avg_pool2d and global_avg_pool, with their backward passes.
#include "ops/cpu/pool2d.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/ops.h"
#include "ops/cuda/pool2d.h"

namespace fusenas {
namespace {

void check_nhwc(const char* name, const Tensor& x) {
  check_defined(name, x, "input");
  check_floating(name, x);
  FUSENAS_CHECK(x.dim() == 4, "{}: expected a 4-D [N, H, W, C] input, got {}", name,
                shape_str(x.shape()));
}

// Checks the window against the input and returns the call's geometry.
Pool2dGeometry pool_geometry(const char* name, const Tensor& x, int64_t kernel, int64_t stride,
                             int64_t padding, bool count_include_pad) {
  Pool2dGeometry p;
  p.kernel = kernel;
  p.stride = stride;
  p.padding = padding;
  p.count_include_pad = count_include_pad;
  check_nhwc(name, x);
  FUSENAS_CHECK(p.kernel >= 1 && p.stride >= 1 && p.padding >= 0,
                "{}: kernel {} and stride {} must be positive and padding {} non-negative "
                "(input {})",
                name, p.kernel, p.stride, p.padding, shape_str(x.shape()));
  // Also what PyTorch requires; it guarantees every window has an in-bounds tap.
  FUSENAS_CHECK(p.padding <= p.kernel / 2,
                "{}: padding {} must be at most half of kernel {} (input {})", name, p.padding,
                p.kernel, shape_str(x.shape()));
  const int64_t h = x.shape()[1], w = x.shape()[2];
  FUSENAS_CHECK(h + 2 * p.padding >= p.kernel && w + 2 * p.padding >= p.kernel,
                "{}: kernel {} is larger than the padded input {} (padding {})", name, p.kernel,
                shape_str(x.shape()), p.padding);
  p.n = x.shape()[0];
  p.h = h;
  p.w = w;
  p.c = x.shape()[3];
  p.oh = (h + 2 * p.padding - p.kernel) / p.stride + 1;
  p.ow = (w + 2 * p.padding - p.kernel) / p.stride + 1;
  return p;
}

}  // namespace

Tensor max_pool2d(const Tensor& input, int64_t kernel, int64_t stride, int64_t padding) {
  const Pool2dGeometry p = pool_geometry("max_pool2d", input, kernel, stride, padding, false);
  const Tensor x = input.detach().contiguous();
  Tensor y = Tensor::empty({p.n, p.oh, p.ow, p.c}, x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::max_pool2d_forward(x, y, p));
  } else {
    cpu::max_pool2d_forward(x, y, p);
  }
  if (needs_grad({&input})) {
    record("max_pool2d", {input}, {y}, [x, y = y.detach(), p](const BackwardContext& ctx) {
      const Tensor gy = ctx.grad().detach().contiguous();
      Tensor gx = Tensor::empty(x.shape(), x.options());
      if (x.is_cuda()) {
        FUSENAS_ON_CUDA(cuda::max_pool2d_backward(x, y, gy, gx, p));
      } else {
        cpu::max_pool2d_backward(x, y, gy, gx, p);
      }
      return std::vector{gx};
    });
  }
  return y;
}

Tensor avg_pool2d(const Tensor& input, int64_t kernel, int64_t stride, int64_t padding,
                  bool count_include_pad) {
  const Pool2dGeometry p =
      pool_geometry("avg_pool2d", input, kernel, stride, padding, count_include_pad);
  const Tensor x = input.detach().contiguous();
  Tensor y = Tensor::empty({p.n, p.oh, p.ow, p.c}, x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::avg_pool2d_forward(x, y, p));
  } else {
    cpu::avg_pool2d_forward(x, y, p);
  }
  record("avg_pool2d", {input}, {y},
         [in_shape = x.shape(), options = x.options(), p](const BackwardContext& ctx) {
           const Tensor gy = ctx.grad().detach().contiguous();
           Tensor gx = Tensor::empty(in_shape, options);
           if (gy.is_cuda()) {
             FUSENAS_ON_CUDA(cuda::avg_pool2d_backward(gy, gx, p));
           } else {
             cpu::avg_pool2d_backward(gy, gx, p);
           }
           return std::vector{gx};
         });
  return y;
}

Tensor global_avg_pool(const Tensor& input) {
  check_nhwc("global_avg_pool", input);
  const Tensor x = input.detach().contiguous();
  Tensor y = Tensor::empty({x.shape()[0], x.shape()[3]}, x.options());
  if (x.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::global_avg_pool_forward(x, y));
  } else {
    cpu::global_avg_pool_forward(x, y);
  }
  record("global_avg_pool", {input}, {y},
         [in_shape = x.shape(), options = x.options()](const BackwardContext& ctx) {
           const Tensor gy = ctx.grad().detach().contiguous();
           Tensor gx = Tensor::empty(in_shape, options);
           if (gy.is_cuda()) {
             FUSENAS_ON_CUDA(cuda::global_avg_pool_backward(gy, gx));
           } else {
             cpu::global_avg_pool_backward(gy, gx);
           }
           return std::vector{gx};
         });
  return y;
}

}  // namespace fusenas
