// CUDA launcher for broadcasting binary arithmetic.
#include "ops/cuda/binary.h"

#include "core/strided.h"
#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/elementwise.h"

namespace fusenas::cuda {

void binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b, const Tensor& out) {
  const Shape sa = broadcast_strides(a.shape(), a.strides(), out.shape());
  const Shape sb = broadcast_strides(b.shape(), b.strides(), out.shape());
  auto desc = make_desc<3>(out.shape(), {out.strides(), sa, sb});
  FUSENAS_LAUNCH(kernels::binary(static_cast<kernels::BinaryOp>(kind), scalar_type(out.dtype()),
                                 desc, out.raw_data(), a.raw_data(), b.raw_data(), stream_for(out)),
                 "binary",
                 // Each operand once (a broadcast operand is read once, then from cache); one
                 // arithmetic operation per output element.
                 LaunchCost(bytes_of(a) + bytes_of(b) + bytes_of(out), out.numel()));
}

}  // namespace fusenas::cuda
