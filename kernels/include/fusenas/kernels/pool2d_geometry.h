// Pool2dGeometry: the sizes of one max/avg pooling call, derived and validated once by the
// engine's op and passed unchanged to its CPU kernels and to the raw CUDA kernels. CUDA-free, so
// the CPU backend shares it.
#pragma once

#include <cstdint>

namespace fusenas::kernels {

// NHWC input [n, h, w, c] -> output [n, oh, ow, c], a square window. The op guarantees
// padding <= kernel / 2, so every window holds an in-bounds tap.
struct Pool2dGeometry {
  int64_t n = 0, h = 0, w = 0, c = 0, oh = 0, ow = 0;
  int64_t kernel = 1, stride = 1, padding = 0;
  bool count_include_pad = false;  // avg only: divide by kernel^2 instead of the in-bounds taps
};

}  // namespace fusenas::kernels
