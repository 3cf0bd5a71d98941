// Skip bits of the multi-branch layer spaces (multibranch, zoph-le) counted in one sequence:
// layer l holds l bits, so the space's L (L - 1) / 2 bits can be drawn as one index.
#pragma once

#include <cstdint>
#include <vector>

namespace fusenas::nas::space::detail {

// Flips bit k of that sequence: layer l holds bits l (l - 1) / 2 .. l (l + 1) / 2 - 1. `Layer`
// has a std::vector<bool> skips.
template <typename Layer>
void flip_skip_bit(std::vector<Layer>& layers, int64_t k) {
  size_t l = 1;
  while (k >= static_cast<int64_t>(l)) k -= static_cast<int64_t>(l++);
  layers[l].skips[static_cast<size_t>(k)] = !layers[l].skips[static_cast<size_t>(k)];
}

}  // namespace fusenas::nas::space::detail
