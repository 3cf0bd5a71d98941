// conv2d cases: dense, pointwise (1x1), grouped, rectangular and depthwise (with channel
// multipliers) windows, with and without a bias; small shapes for the gradient check, the DARTS
// shapes for bench.
#include <fmt/format.h>

#include "bench_shapes.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

Conv2dParams rect(int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups = 1) {
  return {sh, sw, ph, pw, 1, 1, groups};
}

int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

OpCase conv(const std::string& name, const Shape& x, const Shape& w, const Conv2dParams& p,
            bool bias, unsigned checks) {
  OpCase c;
  c.op = "conv2d";
  c.name = bias ? name : name + " no bias";
  c.inputs = {Input{x}, Input{w, -0.5, 0.5}};
  if (bias) c.inputs.push_back(Input{{w[0]}});
  c.run = [p](const std::vector<Tensor>& v) {
    return std::vector{conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), p)};
  };
  c.checks = checks;
  c.params = {{"stride", {p.stride_h, p.stride_w}},
              {"padding", {p.pad_h, p.pad_w}},
              {"dilation", {p.dilation_h, p.dilation_w}},
              {"groups", p.groups}};
  const double ho = out_size(x[1], w[1], p.stride_h, p.pad_h, p.dilation_h);
  const double wo = out_size(x[2], w[2], p.stride_w, p.pad_w, p.dilation_w);
  const double xe = double(numel_of(x)), we = double(numel_of(w)), ye = x[0] * ho * wo * w[0];
  // Backward: the input gradient (reads gy and w, writes gx) and the weight gradient (reads gy
  // and x, writes gw); each costs a forward's worth of multiply-adds.
  c.cost = {xe + we + ye, (ye + we + xe) + (ye + xe + we), 2 * ye * w[1] * w[2] * w[3]};
  return c;
}

// Adds `name` with a bias and without one.
void both(std::vector<OpCase>& cases, const std::string& name, const Shape& x, const Shape& w,
          const Conv2dParams& p, unsigned checks) {
  cases.push_back(conv(name, x, w, p, true, checks));
  cases.push_back(conv(name, x, w, p, false, checks));
}

// Calls fn(k, d, s) for the DARTS depthwise windows: k x k, dilation d, stride s.
template <typename F>
void each_darts_window(F&& fn) {
  for (int64_t k : {3, 5}) {
    for (int64_t d : {1, 2}) {
      for (int64_t s : {1, 2}) fn(k, d, s);
    }
  }
}

}  // namespace

std::vector<OpCase> conv2d_cases() {
  std::vector<OpCase> cases;
  const auto sq = Conv2dParams::square;

  // Small shapes for the finite-difference check: every algorithm of the CPU backend.
  both(cases, "3x3 pad 1 stride 1", {2, 5, 6, 3}, {4, 3, 3, 3}, sq(1, 1, 1, 1), kGradcheck);
  both(cases, "3x3 pad 1 stride 2", {2, 6, 5, 3}, {4, 3, 3, 3}, sq(2, 1, 1, 1), kGradcheck);
  both(cases, "3x3 dilation 2", {1, 7, 7, 2}, {3, 3, 3, 2}, sq(1, 2, 2, 1), kGradcheck);
  both(cases, "1x1 stride 1", {2, 4, 5, 3}, {5, 1, 1, 3}, sq(1, 0, 1, 1), kGradcheck);
  both(cases, "1x1 stride 2", {2, 5, 6, 3}, {4, 1, 1, 3}, sq(2, 0, 1, 1), kGradcheck);
  both(cases, "groups 2 small", {2, 5, 5, 4}, {6, 3, 3, 2}, sq(1, 1, 1, 2), kGradcheck);
  both(cases, "1x1 groups 2", {2, 3, 4, 4}, {6, 1, 1, 2}, sq(1, 0, 1, 2), kGradcheck);
  both(cases, "single channel", {2, 5, 5, 1}, {1, 3, 3, 1}, sq(1, 1, 1, 1), kGradcheck);
  // Padding past dilation * (k - 1): the input gradient leaves the direct kernel.
  both(cases, "3x3 pad 3", {1, 3, 4, 2}, {3, 3, 3, 2}, sq(1, 3, 1, 1), kGradcheck);
  both(cases, "5x5 stride 3 dilation 2", {1, 9, 8, 2}, {5, 5, 5, 2}, {3, 3, 2, 1, 2, 2, 1},
       kGradcheck);
  // kh * kw * C_in/groups above the direct kernels' limits: im2col + GEMM, and 1x1 as one GEMM.
  cases.push_back(
      conv("3x3 C_in 257", {1, 2, 3, 257}, {2, 3, 3, 257}, sq(1, 1, 1, 1), true, kGradcheck));
  cases.push_back(
      conv("1x1 C_in 130", {2, 2, 3, 130}, {3, 1, 1, 130}, sq(1, 0, 1, 1), true, kGradcheck));
  both(cases, "1x7 stride (1, 2) small", {2, 5, 8, 3}, {4, 1, 7, 3}, rect(1, 2, 0, 3), kGradcheck);
  both(cases, "7x1 stride (2, 1) small", {2, 8, 5, 3}, {4, 7, 1, 3}, rect(2, 1, 3, 0), kGradcheck);
  both(cases, "1x7 stride 1 small", {1, 4, 9, 2}, {3, 1, 7, 2}, rect(1, 1, 0, 3), kGradcheck);
  both(cases, "7x1 stride 1 small", {1, 9, 4, 2}, {3, 7, 1, 2}, rect(1, 1, 3, 0), kGradcheck);
  // Depthwise with 10 channels: two full float64 vectors plus a scalar tail; width 12 leaves a
  // full interior block of four outputs and edges on both sides even for 5x5 at dilation 2.
  each_darts_window([&](int64_t k, int64_t d, int64_t s) {
    const std::string name = fmt::format("depthwise {}x{} d{} s{} small", k, k, d, s);
    const auto p = sq(s, d * (k - 1) / 2, d, 10);
    cases.push_back(conv(name, {1, 6, 12, 10}, {10, k, k, 1}, p, true, kGradcheck));
    if (k == 3) cases.push_back(conv(name, {1, 6, 12, 10}, {10, k, k, 1}, p, false, kGradcheck));
  });
  // Unusual depthwise windows: also on the GPU.
  const unsigned small_gpu = kGradcheck | kGpu;
  both(cases, "depthwise 1x7 s(1,2)", {2, 4, 9, 5}, {5, 1, 7, 1}, {1, 2, 0, 3, 1, 1, 5}, small_gpu);
  both(cases, "depthwise 7x1 s(2,1)", {2, 9, 4, 5}, {5, 7, 1, 1}, {2, 1, 3, 0, 1, 1, 5}, small_gpu);
  both(cases, "depthwise 3x3 no padding", {1, 6, 7, 9}, {9, 3, 3, 1}, sq(1, 0, 1, 9), small_gpu);
  both(cases, "depthwise 3x3 padding 3", {1, 4, 5, 9}, {9, 3, 3, 1}, sq(1, 3, 1, 9), small_gpu);
  both(cases, "depthwise 4x2 s3", {1, 8, 7, 6}, {6, 4, 2, 1}, {3, 3, 1, 1, 1, 1, 6}, small_gpu);
  both(cases, "depthwise multiplier 2", {2, 5, 6, 4}, {8, 3, 3, 1}, sq(1, 1, 1, 4), small_gpu);
  both(cases, "depthwise multiplier 3 s2", {1, 6, 6, 3}, {9, 3, 3, 1}, sq(2, 1, 1, 3), small_gpu);

  // CUDA against the CPU: cuDNN's dense, pointwise and grouped convs, the custom depthwise
  // kernels, and (float64) the direct kernels.
  both(cases, "3x3 s1", {2, 12, 12, 16}, {24, 3, 3, 16}, sq(1, 1, 1, 1), kGpu);
  both(cases, "3x3 s2", {2, 13, 12, 16}, {24, 3, 3, 16}, sq(2, 1, 1, 1), kGpu);
  both(cases, "3x3 dilation 2 C8", {2, 11, 11, 8}, {8, 3, 3, 8}, sq(1, 2, 2, 1), kGpu);
  both(cases, "1x1 s1", {4, 8, 8, 32}, {48, 1, 1, 32}, sq(1, 0, 1, 1), kGpu);
  both(cases, "1x1 s2", {4, 9, 8, 32}, {16, 1, 1, 32}, sq(2, 0, 1, 1), kGpu);
  both(cases, "3x3 stem from 3 channels", {2, 16, 16, 3}, {16, 3, 3, 3}, sq(1, 1, 1, 1), kGpu);
  both(cases, "5x5 no padding", {2, 9, 10, 6}, {5, 5, 5, 6}, sq(1, 0, 1, 1), kGpu);
  both(cases, "groups 2", {2, 10, 10, 8}, {12, 3, 3, 4}, sq(1, 1, 1, 2), kGpu);
  both(cases, "groups 2 s2", {2, 10, 9, 8}, {8, 3, 3, 4}, sq(2, 1, 1, 2), kGpu);
  both(cases, "1x1 groups 4", {2, 6, 6, 16}, {8, 1, 1, 4}, sq(1, 0, 1, 4), kGpu);
  both(cases, "1x7 s1", {2, 9, 12, 8}, {8, 1, 7, 8}, rect(1, 1, 0, 3), kGpu);
  both(cases, "7x1 s1", {2, 12, 9, 8}, {8, 7, 1, 8}, rect(1, 1, 3, 0), kGpu);
  both(cases, "1x7 s2", {2, 9, 12, 8}, {8, 1, 7, 8}, rect(2, 2, 0, 3), kGpu);
  both(cases, "7x1 s2", {2, 12, 9, 8}, {8, 7, 1, 8}, rect(2, 2, 3, 0), kGpu);
  both(cases, "1x7 s(1,2)", {2, 5, 12, 4}, {6, 1, 7, 4}, rect(1, 2, 0, 3), kGpu);
  both(cases, "7x1 s(2,1)", {2, 12, 5, 4}, {6, 7, 1, 4}, rect(2, 1, 3, 0), kGpu);
  each_darts_window([&](int64_t k, int64_t d, int64_t s) {
    both(cases, fmt::format("depthwise {}x{} d{} s{} C24", k, k, d, s), {2, 13, 12, 24},
         {24, k, k, 1}, sq(s, d * (k - 1) / 2, d, 24), kGpu);
  });
  both(cases, "depthwise 7x7 s1", {2, 10, 11, 8}, {8, 7, 7, 1}, sq(1, 3, 1, 8), kGpu);
  // Many pixels: several slabs of the weight-gradient reduction.
  both(cases, "depthwise 3x3 large", {8, 32, 32, 16}, {16, 3, 3, 1}, sq(1, 1, 1, 16), kGpu);

  // Against PyTorch at DARTS-like shapes.
  const auto parity = [&](const std::string& name, const Shape& x, const Shape& w,
                          const Conv2dParams& p,
                          bool bias) { cases.push_back(conv(name, x, w, p, bias, kParity)); };
  parity("3x3 s1 C16", {4, 12, 12, 16}, {16, 3, 3, 16}, sq(1, 1, 1, 1), true);
  parity("3x3 s1 C16", {4, 12, 12, 16}, {16, 3, 3, 16}, sq(1, 1, 1, 1), false);
  parity("3x3 s2 C16", {4, 12, 12, 16}, {32, 3, 3, 16}, sq(2, 1, 1, 1), true);
  parity("stem 3x3 C_in 3", {8, 16, 16, 3}, {24, 3, 3, 3}, sq(1, 1, 1, 1), false);
  parity("1x1 s1 C32", {8, 8, 8, 32}, {32, 1, 1, 32}, sq(1, 0, 1, 1), true);
  parity("1x1 s1 C32", {8, 8, 8, 32}, {16, 1, 1, 32}, sq(1, 0, 1, 1), false);
  parity("1x1 C_in 160 (gemm)", {4, 6, 6, 160}, {24, 1, 1, 160}, sq(1, 0, 1, 1), true);
  parity("1x1 C_in 160 groups 2 (gemm)", {4, 6, 6, 320}, {24, 1, 1, 160}, sq(1, 0, 1, 2), false);
  parity("1x1 s2 C16", {8, 16, 16, 16}, {8, 1, 1, 16}, sq(2, 0, 1, 1), false);
  parity("1x1 s2 odd", {4, 15, 15, 16}, {8, 1, 1, 16}, sq(2, 0, 1, 1), true);
  parity("groups 2 C16", {4, 10, 10, 16}, {16, 3, 3, 8}, sq(1, 1, 1, 2), true);
  parity("groups 4 s2", {4, 10, 10, 16}, {32, 3, 3, 4}, sq(2, 1, 1, 4), false);
  parity("3x3 dil 2", {4, 12, 12, 8}, {8, 3, 3, 8}, sq(1, 2, 2, 1), true);
  parity("3x3 C_out 20", {4, 9, 11, 12}, {20, 3, 3, 12}, sq(1, 1, 1, 1), true);
  parity("3x3 C_in 288 (im2col)", {2, 6, 6, 288}, {16, 3, 3, 288}, sq(1, 1, 1, 1), true);
  parity("3x3 groups 2 (im2col)", {2, 5, 5, 600}, {8, 3, 3, 300}, sq(1, 1, 1, 2), true);
  parity("3x3 s2 groups 2 (im2col)", {2, 6, 6, 600}, {8, 3, 3, 300}, sq(2, 1, 1, 2), false);
  parity("1x7 s(1,2) C24", {4, 16, 16, 24}, {24, 1, 7, 24}, rect(1, 2, 0, 3), false);
  parity("7x1 s(2,1) C24", {4, 16, 8, 24}, {24, 7, 1, 24}, rect(2, 1, 3, 0), false);
  parity("1x7 s1 C16", {4, 8, 8, 16}, {16, 1, 7, 16}, rect(1, 1, 0, 3), true);
  parity("7x1 s1 C16", {4, 8, 8, 16}, {16, 7, 1, 16}, rect(1, 1, 3, 0), true);
  each_darts_window([&](int64_t k, int64_t d, int64_t s) {
    parity(fmt::format("depthwise {}x{} d{} s{} C32", k, k, d, s), {4, 16, 16, 32}, {32, k, k, 1},
           sq(s, d * (k - 1) / 2, d, 32), false);
  });
  parity("depthwise 3x3 bias C16", {8, 8, 8, 16}, {16, 3, 3, 1}, sq(1, 1, 1, 16), true);
  parity("depthwise 5x5 C20", {4, 11, 13, 20}, {20, 5, 5, 1}, sq(1, 2, 1, 20), false);
  parity("depthwise 3x3 C20 s2", {4, 11, 13, 20}, {20, 3, 3, 1}, sq(2, 1, 1, 20), true);
  parity("depthwise multiplier 2 C8", {4, 8, 8, 8}, {16, 3, 3, 1}, sq(1, 1, 1, 8), true);
  parity("depthwise 1x7 C16", {4, 8, 8, 16}, {16, 1, 7, 1}, rect(1, 2, 0, 3, 16), false);

  // bench: the DARTS candidates' convolutions (the depthwise stages of sep/dil convs, the 1x1 of
  // every sep conv, a dense 3x3) at the search shapes, without a bias as DARTS runs them (so the
  // names leave out "no bias").
  for (const BenchShape& a : bench_shapes()) {
    const Shape x{a.n, a.hw, a.hw, a.c};
    each_darts_window([&](int64_t k, int64_t d, int64_t s) {
      const unsigned checks = bench_checks(a, k == 3 && d == 1);
      if (checks == 0) return;
      cases.push_back(conv("", x, {a.c, k, k, 1}, sq(s, d * (k / 2), d, a.c), false, checks));
      cases.back().name = fmt::format("depthwise {}x{} d{} s{} {}", k, k, d, s, a.tag());
    });
    for (int64_t k : {1, 3}) {
      cases.push_back(
          conv("", x, {a.c, k, k, a.c}, sq(1, k / 2, 1, 1), false, bench_checks(a, true)));
      cases.back().name = fmt::format("{}x{} {}", k, k, a.tag());
    }
  }
  return cases;
}

}  // namespace fusenas::cases
