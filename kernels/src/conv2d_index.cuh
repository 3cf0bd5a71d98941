// Private index helpers shared by the conv kernels: splitting a flat NHWC index and finding the
// output position a kernel tap maps an input position to.
#pragma once

#include "fusenas/kernels/conv2d.h"

namespace fusenas::kernels::detail {

struct Pixel {
  int64_t n, y, x, ch;  // flat index ((n * rows + y) * cols + x) * channels + ch
};

__device__ __forceinline__ Pixel split_pixel(int64_t i, int64_t rows, int64_t cols,
                                             int64_t channels) {
  Pixel p;
  p.ch = i % channels;
  i /= channels;
  p.x = i % cols;
  i /= cols;
  p.y = i % rows;
  p.n = i / rows;
  return p;
}

// The output position whose window reads input position `in` through tap `t`, or -1.
__device__ __forceinline__ int64_t output_of_tap(int64_t in, int64_t t, int64_t stride, int64_t pad,
                                                 int64_t dil, int64_t outs) {
  const int64_t s = in + pad - t * dil;
  if (s < 0 || s % stride != 0) return -1;
  const int64_t o = s / stride;
  return o < outs ? o : -1;
}

}  // namespace fusenas::kernels::detail
