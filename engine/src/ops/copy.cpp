// Copy-like tensor methods: contiguous, clone, device and dtype conversion (differentiable), and
// the raw in-place updates optimizers use (fill_, copy_, add_, mul_; never recorded).
#include "ops/cpu/copy.h"
#include "core/dispatch.h"
#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "ops/cpu/binary.h"
#include "ops/cuda/binary.h"
#include "ops/cuda/copy.h"

namespace fusenas {
namespace {

void copy_same_device(const Tensor& src, const Tensor& dst) {
  if (dst.is_cuda()) {
    FUSENAS_ON_CUDA(cuda::copy(src, dst));
  } else {
    cpu::copy(src, dst);
  }
}

}  // namespace

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), options());
  copy_same_device(*this, out);
  record("clone", {*this}, {out},
         [](const BackwardContext& ctx) { return std::vector{ctx.grad()}; });
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::to(Device target) const {
  if (device() == target) return *this;
  Tensor src = contiguous();
  Tensor out = Tensor::empty(shape(), options().with_device(target));
  FUSENAS_ON_CUDA(cuda::transfer(src, out));
  const Device source = device();
  record("to_device", {*this}, {out},
         [source](const BackwardContext& ctx) { return std::vector{ctx.grad().to(source)}; });
  return out;
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  Tensor out = Tensor::empty(shape(), options().with_dtype(target));
  copy_same_device(*this, out);
  const DType source = dtype();
  if (is_floating(target)) {
    record("to_dtype", {*this}, {out},
           [source](const BackwardContext& ctx) { return std::vector{ctx.grad().to(source)}; });
  }
  return out;
}

const Tensor& Tensor::copy_(const Tensor& src) const {
  FUSENAS_CHECK(src.shape() == shape(), "copy_: source shape {} differs from destination shape {}",
                shape_str(src.shape()), shape_str(shape()));
  if (src.device() == device()) {
    copy_same_device(src, *this);
  } else if (is_contiguous() && src.dtype() == dtype()) {
    FUSENAS_ON_CUDA(cuda::transfer(src.contiguous(), *this));
  } else {
    copy_same_device(src.to(device()), *this);
  }
  return *this;
}

const Tensor& Tensor::fill_(double value) const {
  if (is_cuda()) {
    FUSENAS_ON_CUDA(cuda::fill(*this, value));
  } else {
    cpu::fill(*this, value);
  }
  return *this;
}

const Tensor& Tensor::add_(const Tensor& other, double alpha) const {
  check_same_device_dtype("add_", {*this, other});
  FUSENAS_CHECK(broadcast_shapes(other.shape(), shape(), "add_") == shape(),
                "add_: cannot add shape {} into shape {}", shape_str(other.shape()),
                shape_str(shape()));
  if (is_cuda()) {
    FUSENAS_ON_CUDA(cuda::axpy(*this, other, alpha));
  } else {
    cpu::axpy(*this, other, alpha);
  }
  return *this;
}

const Tensor& Tensor::mul_(const Tensor& factor) const {
  check_same_device_dtype("mul_", {*this, factor});
  FUSENAS_CHECK(broadcast_shapes(factor.shape(), shape(), "mul_") == shape(),
                "mul_: cannot multiply shape {} by shape {}", shape_str(shape()),
                shape_str(factor.shape()));
  // Elementwise, so writing each result where its input was read is safe.
  if (is_cuda()) {
    FUSENAS_ON_CUDA(cuda::binary_forward(BinaryKind::Mul, *this, factor, *this));
  } else {
    cpu::binary_forward(BinaryKind::Mul, *this, factor, *this);
  }
  return *this;
}

const Tensor& Tensor::mul_(double factor) const {
  if (is_cuda()) {
    FUSENAS_ON_CUDA(cuda::scale_inplace(*this, factor));
  } else {
    cpu::scale_inplace(*this, factor);
  }
  return *this;
}

}  // namespace fusenas
