// CUDA launchers for dropout and drop_path: the CPU's Philox draw, so masks match it bit for bit.
#include "ops/cuda/dropout.h"

#include <algorithm>

#include "cuda/check.h"
#include "cuda/context.h"
#include "cuda/desc.h"
#include "fusenas/kernels/dropout.h"

namespace fusenas::cuda {
namespace {

// Elements per sample, as the CPU computes it.
int64_t sample_size(const Tensor& t) {
  const int64_t samples = t.shape()[0];
  return samples == 0 ? 1 : std::max<int64_t>(1, t.numel() / samples);
}

}  // namespace

void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p, uint64_t seed,
                     uint64_t first_block) {
  FUSENAS_LAUNCH(
      kernels::dropout_forward(scalar_type(x.dtype()), x.numel(), x.raw_data(), y.raw_data(),
                               mask.data<uint8_t>(), dropout_keep_threshold(p), 1.0 / (1.0 - p),
                               seed, first_block, stream_for(x)),
      // x read, y and the byte mask written; the Philox draw is integer work, so one FLOP (the
      // scaling) per element.
      "dropout", LaunchCost(bytes_of(x) + bytes_of(y) + bytes_of(mask), x.numel()));
}

void dropout_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale) {
  FUSENAS_LAUNCH(kernels::masked_scale(scalar_type(gy.dtype()), gy.numel(), 1, gy.raw_data(),
                                       mask.data<uint8_t>(), gx.raw_data(), scale, stream_for(gy)),
                 "dropout backward",
                 LaunchCost(bytes_of(gy) + bytes_of(mask) + bytes_of(gx), gy.numel()));
}

void drop_path_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p,
                       uint64_t seed, uint64_t first_block) {
  FUSENAS_LAUNCH(kernels::drop_path_forward(scalar_type(x.dtype()), x.shape()[0], x.numel(),
                                            sample_size(x), x.raw_data(), y.raw_data(),
                                            mask.data<uint8_t>(), dropout_keep_threshold(p),
                                            1.0 / (1.0 - p), seed, first_block, stream_for(x)),
                 "drop_path", LaunchCost(bytes_of(x) + bytes_of(y) + bytes_of(mask), x.numel()));
}

void drop_path_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale) {
  FUSENAS_LAUNCH(
      kernels::masked_scale(scalar_type(gy.dtype()), gy.numel(), sample_size(gy), gy.raw_data(),
                            mask.data<uint8_t>(), gx.raw_data(), scale, stream_for(gy)),
      "drop_path backward", LaunchCost(bytes_of(gy) + bytes_of(mask) + bytes_of(gx), gy.numel()));
}

}  // namespace fusenas::cuda
