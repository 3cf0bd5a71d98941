// CPU kernels for concatenation along an axis and its inverse (splitting the gradient).
#pragma once

#include <cstdint>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cpu {

// out = xs joined along `axis`; xs and out contiguous and of one dtype (any dtype).
void concat_forward(const std::vector<Tensor>& xs, int64_t axis, const Tensor& out);
// gxs[i] = the part of contiguous gy that input i filled; sizes[i] is input i's extent along
// `axis`. Undefined gxs entries are skipped; defined ones are contiguous.
void concat_backward(const Tensor& gy, int64_t axis, const std::vector<int64_t>& sizes,
                     const std::vector<Tensor>& gxs);

}  // namespace fusenas::cpu
