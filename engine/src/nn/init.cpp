// Parameter initialisers: draw on the host-side Generator stream, then copy into the tensor.
#include "fusenas/engine/nn/init.h"

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas::nn::init {

int64_t fan_in(const Tensor& weight) {
  FUSENAS_CHECK(weight.dim() >= 2, "fan_in: weight of shape {} needs at least 2 dimensions",
                shape_str(weight.shape()));
  return weight.numel() / weight.shape()[0];
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  NoGradGuard no_grad;
  Tensor dst = t.detach();
  dst.copy_(uniform(t.shape(), low, high, gen, t.options()));
}

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  NoGradGuard no_grad;
  Tensor dst = t.detach();
  dst.copy_(normal(t.shape(), mean, stddev, gen, t.options()));
}

void kaiming_uniform_(const Tensor& weight, double a, Generator& gen) {
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in(weight)));
  uniform_(weight, -bound, bound, gen);
}

}  // namespace fusenas::nn::init
