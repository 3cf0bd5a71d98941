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
                 log ? "log_softmax" : "softmax");
}

void softmax_backward(const Tensor& gy, const Tensor& y, const Tensor& gx, bool log) {
  FUSENAS_LAUNCH(
      kernels::softmax_backward(scalar_type(y.dtype()), rows_of(y), y.shape().back(), gy.raw_data(),
                                y.raw_data(), gx.raw_data(), log, stream_for(y)),
      log ? "log_softmax backward" : "softmax backward");
}

}  // namespace fusenas::cuda
