// CPU kernels for the DARTS MixedOp form: out = sum_i weights[i] * xs[i].
#pragma once

#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// out = sum_i weights[i] * xs[i]; xs[i] and out contiguous, same shape; weights [N].
void weighted_sum_forward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& out);
// In one pass over gy: gxs[i] = weights[i] * gy for every defined gxs[i], and, when gweights is
// defined, gweights[i] = <gy, xs[i]> (double accumulation). xs is only read, and may be empty,
// when gweights is undefined; gxs has one entry per input.
void weighted_sum_backward(const std::vector<Tensor>& xs, const Tensor& weights, const Tensor& gy,
                           const std::vector<Tensor>& gxs, const Tensor& gweights);

}  // namespace fusenas::cpu
