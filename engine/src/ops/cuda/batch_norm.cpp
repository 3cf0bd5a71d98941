// CUDA launchers for per-channel batch norm over the last axis.
#include "ops/cuda/batch_norm.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/batch_norm.h"

namespace fusenas::cuda {
namespace {

void* data_or_null(const Tensor& t) {
  return t.defined() ? t.raw_data() : nullptr;
}

int64_t rows_of(const Tensor& x, int64_t c) {
  return c == 0 ? 0 : x.numel() / c;
}

Tensor workspace_for(const Tensor& x, int64_t rows, int64_t c) {
  return Tensor::empty({kernels::batch_norm_workspace(rows, c)},
                       x.options().with_dtype(DType::Float64));
}

}  // namespace

void batch_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const Tensor& running_mean, const Tensor& running_var, bool training,
                        double momentum, double eps, const Tensor& y, const Tensor& save_mean,
                        const Tensor& save_invstd) {
  const int64_t c = x.shape().back(), rows = rows_of(x, c);
  Tensor workspace = workspace_for(x, rows, c);
  // x once and y once (the kernel reads x a second time to normalise; at the model's sizes that
  // read hits L2), the per-channel vectors, and the partials written then read back. Training:
  // a sum and a sum of squares (3 FLOPs) per element; then (x - mean) * invstd * w + b (4).
  const int64_t vectors = bytes_of(weight) + bytes_of(bias) + 2 * bytes_of(running_mean) +
                          2 * bytes_of(running_var) + bytes_of(save_mean) + bytes_of(save_invstd);
  const LaunchCost cost(bytes_of(x) + bytes_of(y) + vectors + 2 * bytes_of(workspace),
                        (training ? 7 : 4) * x.numel());
  FUSENAS_LAUNCH(kernels::batch_norm_forward(
                     scalar_type(x.dtype()), rows, c, x.raw_data(), data_or_null(weight),
                     data_or_null(bias), data_or_null(running_mean), data_or_null(running_var),
                     training, momentum, eps, y.raw_data(), save_mean.raw_data(),
                     save_invstd.raw_data(), workspace.data<double>(), stream_for(x)),
                 "batch_norm", cost);
}

void batch_norm_backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& invstd, const Tensor& gx,
                         const Tensor& gweight, const Tensor& gbias) {
  const int64_t c = x.shape().back(), rows = rows_of(x, c);
  Tensor workspace = workspace_for(x, rows, c);
  // gy and x read, gx written, the per-channel vectors, the partials round trip. Per element:
  // sum g and sum g * xhat (xhat: 2, sums: 3), then gx from them (about 5).
  const int64_t vectors =
      bytes_of(weight) + bytes_of(mean) + bytes_of(invstd) + bytes_of(gweight) + bytes_of(gbias);
  const LaunchCost cost(
      bytes_of(gy) + bytes_of(x) + bytes_of(gx) + vectors + 2 * bytes_of(workspace),
      10 * x.numel());
  FUSENAS_LAUNCH(
      kernels::batch_norm_backward(scalar_type(x.dtype()), rows, c, training, gy.raw_data(),
                                   x.raw_data(), data_or_null(weight), mean.raw_data(),
                                   invstd.raw_data(), data_or_null(gx), data_or_null(gweight),
                                   data_or_null(gbias), workspace.data<double>(), stream_for(x)),
      "batch_norm backward", cost);
}

}  // namespace fusenas::cuda
