// LaunchCost: what one launch site states about its kernel for the launch log and the modelled
// step time (cuda::launch_totals), with the small helpers the sites compute it from.
#pragma once

#include <cstdint>

#include "fusenas/engine/tensor.h"
#include "fusenas/kernels/conv2d_geometry.h"

namespace fusenas::cuda {

// Global-memory bytes the launch must read plus write at least (each operand once, plus the
// scratch its algorithm round-trips through global memory, such as per-block partials), and its
// floating-point operations (a multiply-add is 2; a compare or a transcendental counts 1). Never
// both zero for work that moves data: a zero would let the model call the launch free.
struct LaunchCost {
  int64_t bytes = 0;
  int64_t flops = 0;
  constexpr LaunchCost() = default;
  constexpr LaunchCost(int64_t b, int64_t f) : bytes(b), flops(f) {}
  LaunchCost& operator+=(const LaunchCost& o) {
    bytes += o.bytes;
    flops += o.flops;
    return *this;
  }
};

// Bytes of a tensor's elements; 0 for an undefined tensor (an operand the call leaves out).
inline int64_t bytes_of(const Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(dtype_size(t.dtype())) : 0;
}

// A convolution in any direction (forward, data gradient, filter gradient) does the same
// multiply-adds, 2 * N * Cout * Ho * Wo * (Cin / groups) * kh * kw FLOPs, and touches the input,
// the weight and the output once each at least.
inline LaunchCost conv2d_cost(const kernels::Conv2dGeometry& g, int64_t element_bytes) {
  const int64_t x = g.n * g.h * g.w * g.cin, w = g.cout * g.kh * g.kw * g.cin_g(),
                y = g.n * g.ho * g.wo * g.cout;
  return {(x + w + y) * element_bytes, 2 * y * g.cin_g() * g.kh * g.kw};
}

// Adds one launch to the running totals and, when the launch log is open, writes its line
// (note_launch calls it; `captured`: made during graph capture).
void record_launch_cost(const char* what, LaunchCost cost, bool captured);

}  // namespace fusenas::cuda
