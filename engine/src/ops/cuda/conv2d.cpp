// CUDA launchers for conv2d: depthwise convs run the custom kernels, float32 dense and grouped
// convs run cuDNN (ops/cuda/conv2d_cudnn.cpp), float64 ones the direct kernels.
#include "ops/cuda/conv2d.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/conv2d.h"
#include "fusenas/kernels/reduce.h"
#include "ops/cuda/conv2d_cudnn.h"

namespace fusenas::cuda {
namespace {

bool use_cudnn(const Conv2dGeometry& g, const Tensor& t) {
  return !g.depthwise() && t.dtype() == DType::Float32;
}

}  // namespace

void conv2d_forward(const Conv2dGeometry& g, const Tensor& x, const Tensor& weight,
                    const Tensor& bias, const Tensor& y) {
  const kernels::ScalarType type = scalar_type(x.dtype());
  const int64_t element = static_cast<int64_t>(dtype_size(x.dtype()));
  // The custom kernels add the bias too: read once, one add per output.
  LaunchCost cost = conv2d_cost(g, element);
  if (bias.defined()) cost += LaunchCost(bytes_of(bias), y.numel());
  cudaStream_t stream = stream_for(x);
  if (g.depthwise()) {
    FUSENAS_LAUNCH(kernels::conv2d_depthwise_forward(type, g, x.raw_data(), weight.raw_data(),
                                                     bias.defined() ? bias.raw_data() : nullptr,
                                                     y.raw_data(), stream),
                   "conv2d_depthwise", cost);
    return;
  }
  if (!use_cudnn(g, x) || !cudnn_conv_forward(g, x, weight, y)) {
    FUSENAS_LAUNCH(kernels::conv2d_direct_forward(type, g, x.raw_data(), weight.raw_data(),
                                                  bias.defined() ? bias.raw_data() : nullptr,
                                                  y.raw_data(), stream),
                   "conv2d_direct", cost);
    return;
  }
  if (bias.defined()) {
    FUSENAS_LAUNCH(kernels::add_channel_bias(type, g.n * g.ho * g.wo, g.cout, y.raw_data(),
                                             bias.raw_data(), stream),
                   // y read and written, the bias read; one add per output.
                   "conv2d bias", LaunchCost(2 * bytes_of(y) + bytes_of(bias), y.numel()));
  }
}

void conv2d_backward_input(const Conv2dGeometry& g, const Tensor& gy, const Tensor& weight,
                           const Tensor& gx) {
  const kernels::ScalarType type = scalar_type(gy.dtype());
  const LaunchCost cost = conv2d_cost(g, static_cast<int64_t>(dtype_size(gy.dtype())));
  if (g.depthwise()) {
    FUSENAS_LAUNCH(kernels::conv2d_depthwise_backward_input(
                       type, g, gy.raw_data(), weight.raw_data(), gx.raw_data(), stream_for(gy)),
                   "conv2d_depthwise backward input", cost);
  } else if (!use_cudnn(g, gy) || !cudnn_conv_backward_data(g, gy, weight, gx)) {
    FUSENAS_LAUNCH(kernels::conv2d_direct_backward_input(type, g, gy.raw_data(), weight.raw_data(),
                                                         gx.raw_data(), stream_for(gy)),
                   "conv2d_direct backward input", cost);
  }
}

void conv2d_backward_weight(const Conv2dGeometry& g, const Tensor& gy, const Tensor& x,
                            const Tensor& gw) {
  const kernels::ScalarType type = scalar_type(gy.dtype());
  LaunchCost cost = conv2d_cost(g, static_cast<int64_t>(dtype_size(gy.dtype())));
  if (g.depthwise()) {
    Tensor partials = Tensor::empty({kernels::conv2d_depthwise_weight_workspace(g)},
                                    gy.options().with_dtype(DType::Float64));
    FUSENAS_LAUNCH(kernels::conv2d_depthwise_backward_weight(type, g, gy.raw_data(), x.raw_data(),
                                                             gw.raw_data(), partials.data<double>(),
                                                             stream_for(gy)),
                   // Per-block weight partials: written, then read back in block order.
                   "conv2d_depthwise backward weight",
                   LaunchCost(cost.bytes + 2 * bytes_of(partials), cost.flops));
  } else if (!use_cudnn(g, gy) || !cudnn_conv_backward_filter(g, gy, x, gw)) {
    FUSENAS_LAUNCH(kernels::conv2d_direct_backward_weight(type, g, gy.raw_data(), x.raw_data(),
                                                          gw.raw_data(), stream_for(gy)),
                   "conv2d_direct backward weight", cost);
  }
}

void conv2d_backward_bias(const Conv2dGeometry& g, const Tensor& gy, const Tensor& gb) {
  const int64_t rows = g.n * g.ho * g.wo;
  Tensor partials = Tensor::empty({kernels::column_sum_partials(rows, g.cout)},
                                  gy.options().with_dtype(DType::Float64));
  FUSENAS_LAUNCH(kernels::column_sum(scalar_type(gy.dtype()), rows, g.cout, gy.raw_data(),
                                     gb.raw_data(), 1.0, partials.data<double>(), stream_for(gy)),
                 "conv2d backward bias",
                 LaunchCost(bytes_of(gy) + bytes_of(gb) + 2 * bytes_of(partials), gy.numel()));
}

}  // namespace fusenas::cuda
