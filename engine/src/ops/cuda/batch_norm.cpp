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
  FUSENAS_LAUNCH(kernels::batch_norm_forward(
                     scalar_type(x.dtype()), rows, c, x.raw_data(), data_or_null(weight),
                     data_or_null(bias), data_or_null(running_mean), data_or_null(running_var),
                     training, momentum, eps, y.raw_data(), save_mean.raw_data(),
                     save_invstd.raw_data(), workspace.data<double>(), stream_for(x)),
                 "batch_norm");
}

void batch_norm_backward(bool training, const Tensor& gy, const Tensor& x, const Tensor& weight,
                         const Tensor& mean, const Tensor& invstd, const Tensor& gx,
                         const Tensor& gweight, const Tensor& gbias) {
  const int64_t c = x.shape().back(), rows = rows_of(x, c);
  Tensor workspace = workspace_for(x, rows, c);
  FUSENAS_LAUNCH(
      kernels::batch_norm_backward(scalar_type(x.dtype()), rows, c, training, gy.raw_data(),
                                   x.raw_data(), data_or_null(weight), mean.raw_data(),
                                   invstd.raw_data(), data_or_null(gx), data_or_null(gweight),
                                   data_or_null(gbias), workspace.data<double>(), stream_for(x)),
      "batch_norm backward");
}

}  // namespace fusenas::cuda
