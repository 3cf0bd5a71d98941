// The recurrent dropout mask a cell applies to h_{t-1} where it enters its input transform: one
// check and one multiply shared by every recurrent cell.
#pragma once

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"

#include <vector>

namespace fusenas::nas::rnn {

// h * mask, or h when the mask is undefined (no dropout).
inline Tensor masked(const Tensor& h, const Tensor& mask) {
  return mask.defined() ? mul(h, mask) : h;
}

// Throws unless `mask` is undefined or of h's shape.
inline void check_h_mask(const char* who, const Tensor& mask, const Tensor& h) {
  FUSENAS_CHECK(!mask.defined() || mask.shape() == h.shape(),
                "{}: the h mask must match h's shape {}, got {}", who, shape_str(h.shape()),
                shape_str(mask.shape()));
}

// Weight i of a cell with DropConnect's mask i multiplied in (as it is when there is none).
inline Tensor masked_weight(const std::vector<Tensor>& masks, size_t i, const Tensor& w) {
  return i < masks.size() && masks[i].defined() ? mul(w, masks[i]) : w;
}

}  // namespace fusenas::nas::rnn
