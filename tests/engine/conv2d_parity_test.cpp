// conv2d against PyTorch 1.13 (CPU, NCHW at the boundary) at DARTS-like shapes: forward and the
// input, weight and bias gradients.
#include <gtest/gtest.h>

#include "fusenas/engine/ops.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::ParityBatch;
using testing::random_float;

struct Case {
  std::string name;
  Shape x, w;
  Conv2dParams p;
  bool bias = true;
};

nlohmann::json torch_params(const Conv2dParams& p) {
  return {{"stride", {p.stride_h, p.stride_w}},
          {"padding", {p.pad_h, p.pad_w}},
          {"dilation", {p.dilation_h, p.dilation_w}},
          {"groups", p.groups}};
}

void run(const std::vector<Case>& cases) {
  ParityBatch batch;
  uint64_t seed = 1;
  for (const auto& c : cases) {
    std::vector<Tensor> inputs{random_float(c.x, seed), random_float(c.w, seed + 1, -0.5, 0.5)};
    if (c.bias) inputs.push_back(random_float({c.w[0]}, seed + 2));
    seed += 3;
    const Conv2dParams p = c.p;
    batch.add(c.name, "conv2d", torch_params(p), inputs, [p](const std::vector<Tensor>& v) {
      return conv2d(v[0], v[1], v.size() > 2 ? v[2] : Tensor(), p);
    });
  }
  batch.check();
}

Conv2dParams rect(int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups = 1) {
  return {sh, sw, ph, pw, 1, 1, groups};
}

TEST(Conv2dParity, DenseAndPointwise) {
  run({
      {"3x3 s1", {4, 12, 12, 16}, {16, 3, 3, 16}, Conv2dParams::square(1, 1)},
      {"3x3 s1 no bias", {4, 12, 12, 16}, {16, 3, 3, 16}, Conv2dParams::square(1, 1), false},
      {"3x3 s2", {4, 12, 12, 16}, {32, 3, 3, 16}, Conv2dParams::square(2, 1)},
      {"stem 3x3 C_in 3", {8, 16, 16, 3}, {24, 3, 3, 3}, Conv2dParams::square(1, 1), false},
      {"1x1 s1", {8, 8, 8, 32}, {32, 1, 1, 32}, Conv2dParams::square(1, 0)},
      {"1x1 s1 no bias", {8, 8, 8, 32}, {16, 1, 1, 32}, Conv2dParams::square(1, 0), false},
      {"1x1 C_in 160 (gemm)", {4, 6, 6, 160}, {24, 1, 1, 160}, Conv2dParams::square(1, 0)},
      {"1x1 C_in 160 groups 2 (gemm)",
       {4, 6, 6, 320},
       {24, 1, 1, 160},
       Conv2dParams::square(1, 0, 1, 2),
       false},
      {"1x1 s2", {8, 16, 16, 16}, {8, 1, 1, 16}, Conv2dParams::square(2, 0), false},
      {"1x1 s2 odd", {4, 15, 15, 16}, {8, 1, 1, 16}, Conv2dParams::square(2, 0)},
      {"groups 2", {4, 10, 10, 16}, {16, 3, 3, 8}, Conv2dParams::square(1, 1, 1, 2)},
      {"groups 4 s2", {4, 10, 10, 16}, {32, 3, 3, 4}, Conv2dParams::square(2, 1, 1, 4), false},
      {"3x3 dil 2", {4, 12, 12, 8}, {8, 3, 3, 8}, Conv2dParams::square(1, 2, 2)},
      {"3x3 C_out 20", {4, 9, 11, 12}, {20, 3, 3, 12}, Conv2dParams::square(1, 1)},
      {"3x3 C_in 288 (im2col)", {2, 6, 6, 288}, {16, 3, 3, 288}, Conv2dParams::square(1, 1)},
      {"3x3 groups 2 (im2col)", {2, 5, 5, 600}, {8, 3, 3, 300}, Conv2dParams::square(1, 1, 1, 2)},
      {"3x3 s2 groups 2 (im2col)",
       {2, 6, 6, 600},
       {8, 3, 3, 300},
       Conv2dParams::square(2, 1, 1, 2),
       false},
  });
}

TEST(Conv2dParity, Rectangular) {
  run({
      {"1x7 s(1,2)", {4, 16, 16, 24}, {24, 1, 7, 24}, rect(1, 2, 0, 3), false},
      {"7x1 s(2,1)", {4, 16, 8, 24}, {24, 7, 1, 24}, rect(2, 1, 3, 0), false},
      {"1x7 s1", {4, 8, 8, 16}, {16, 1, 7, 16}, rect(1, 1, 0, 3)},
      {"7x1 s1", {4, 8, 8, 16}, {16, 7, 1, 16}, rect(1, 1, 3, 0)},
  });
}

TEST(Conv2dParity, Depthwise) {
  std::vector<Case> cases;
  for (int64_t k : {3, 5}) {
    for (int64_t d : {1, 2}) {
      for (int64_t s : {1, 2}) {
        const std::string name = std::to_string(k) + "x" + std::to_string(k) + " dil " +
                                 std::to_string(d) + " stride " + std::to_string(s);
        cases.push_back({name,
                         {4, 16, 16, 32},
                         {32, k, k, 1},
                         Conv2dParams::square(s, d * (k - 1) / 2, d, 32),
                         false});
      }
    }
  }
  cases.push_back({"3x3 bias", {8, 8, 8, 16}, {16, 3, 3, 1}, Conv2dParams::square(1, 1, 1, 16)});
  cases.push_back(
      {"5x5 C 20", {4, 11, 13, 20}, {20, 5, 5, 1}, Conv2dParams::square(1, 2, 1, 20), false});
  cases.push_back(
      {"3x3 C 20 s2", {4, 11, 13, 20}, {20, 3, 3, 1}, Conv2dParams::square(2, 1, 1, 20), true});
  cases.push_back(
      {"multiplier 2", {4, 8, 8, 8}, {16, 3, 3, 1}, Conv2dParams::square(1, 1, 1, 8), true});
  cases.push_back({"1x7 depthwise", {4, 8, 8, 16}, {16, 1, 7, 1}, rect(1, 2, 0, 3, 16), false});
  run(cases);
}

}  // namespace
}  // namespace fusenas
