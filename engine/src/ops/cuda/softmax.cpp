// CUDA launchers for softmax and log-softmax over the last axis.
#include "ops/cuda/softmax.h"

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/softmax.h"

namespace fusenas::cuda {
namespace {

int64_t rows_of(const Tensor& t) {
  const int64_t k = t.shape().back();
  return k == 0 ? 0 : t.numel() / k;
}

}  // namespace

void softmax_forward(const Tensor& x, const Tensor& y, bool log) {
  FUSENAS_LAUNCH(kernels::softmax_forward(scalar_type(x.dtype()), rows_of(x), x.shape().back(),
                                          x.raw_data(), y.raw_data(), log, stream_for(x)),
                 log ? "log_softmax" : "softmax",
                 // Max, subtract, exp and sum per element, then a scale (log: a subtract).
                 LaunchCost(bytes_of(x) + bytes_of(y), 5 * x.numel()));
}

void softmax_backward(const Tensor& gy, const Tensor& y, const Tensor& gx, bool log) {
  FUSENAS_LAUNCH(
      kernels::softmax_backward(scalar_type(y.dtype()), rows_of(y), y.shape().back(), gy.raw_data(),
                                y.raw_data(), gx.raw_data(), log, stream_for(y)),
      log ? "log_softmax backward" : "softmax backward",
      // A dot product of gy and y per row, then a multiply-add per element.
      LaunchCost(bytes_of(gy) + bytes_of(y) + bytes_of(gx), 4 * y.numel()));
}

}  // namespace fusenas::cuda
