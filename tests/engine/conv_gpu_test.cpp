// CUDA backend of conv2d against the CPU, forward and backward (input, weight and bias
// gradients): cuDNN dense/pointwise/grouped convs, the custom depthwise kernels (3x3, 5x5, 7x7 and
// rectangular windows, dilation 1 and 2, stride 1 and 2, channel multipliers) and the float64
// direct kernels.
#include <gtest/gtest.h>

#include <string>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::random_float;

struct Case {
  std::string name;
  Shape x, w;
  Conv2dParams p;
};

Conv2dParams rect(int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t groups = 1) {
  return {sh, sw, ph, pw, 1, 1, groups};
}

// Compares with and without a bias, in float32 and (on a smaller batch) float64.
void check_case(const Case& c, uint64_t seed) {
  const Conv2dParams p = c.p;
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    const std::string tag = fmt::format("{} {}", c.name, dtype_name(dtype));
    const auto in = std::vector{random_float(c.x, seed).to(dtype),
                                random_float(c.w, seed + 1, -0.5, 0.5).to(dtype),
                                random_float({c.w[0]}, seed + 2).to(dtype)};
    expect_cuda_matches_cpu(tag + " with bias", in, [p](const auto& v) {
      return std::vector{conv2d(v[0], v[1], v[2], p)};
    });
    expect_cuda_matches_cpu(tag + " no bias", {in[0], in[1]}, [p](const auto& v) {
      return std::vector{conv2d(v[0], v[1], Tensor(), p)};
    });
  }
}

TEST(ConvGpu, DenseAndPointwise) {
  FUSENAS_REQUIRE_GPU();
  const std::vector<Case> cases = {
      {"3x3 s1", {2, 12, 12, 16}, {24, 3, 3, 16}, Conv2dParams::square(1, 1)},
      {"3x3 s2", {2, 13, 12, 16}, {24, 3, 3, 16}, Conv2dParams::square(2, 1)},
      {"3x3 dilation 2", {2, 11, 11, 8}, {8, 3, 3, 8}, Conv2dParams::square(1, 2, 2)},
      {"1x1 s1", {4, 8, 8, 32}, {48, 1, 1, 32}, Conv2dParams::square(1, 0)},
      {"1x1 s2", {4, 9, 8, 32}, {16, 1, 1, 32}, Conv2dParams::square(2, 0)},
      {"3x3 stem from 3 channels", {2, 16, 16, 3}, {16, 3, 3, 3}, Conv2dParams::square(1, 1)},
      {"5x5 no padding", {2, 9, 10, 6}, {5, 5, 5, 6}, Conv2dParams::square(1, 0)},
  };
  uint64_t seed = 10;
  for (const auto& c : cases) check_case(c, seed += 3);
}

TEST(ConvGpu, Grouped) {
  FUSENAS_REQUIRE_GPU();
  const std::vector<Case> cases = {
      {"groups 2", {2, 10, 10, 8}, {12, 3, 3, 4}, Conv2dParams::square(1, 1, 1, 2)},
      {"groups 2 s2", {2, 10, 9, 8}, {8, 3, 3, 4}, Conv2dParams::square(2, 1, 1, 2)},
      {"1x1 groups 4", {2, 6, 6, 16}, {8, 1, 1, 4}, Conv2dParams::square(1, 0, 1, 4)},
  };
  uint64_t seed = 100;
  for (const auto& c : cases) check_case(c, seed += 3);
}

TEST(ConvGpu, RectangularWithStrides) {
  FUSENAS_REQUIRE_GPU();
  const std::vector<Case> cases = {
      {"1x7 s1", {2, 9, 12, 8}, {8, 1, 7, 8}, rect(1, 1, 0, 3)},
      {"7x1 s1", {2, 12, 9, 8}, {8, 7, 1, 8}, rect(1, 1, 3, 0)},
      {"1x7 s2", {2, 9, 12, 8}, {8, 1, 7, 8}, rect(2, 2, 0, 3)},
      {"7x1 s2", {2, 12, 9, 8}, {8, 7, 1, 8}, rect(2, 2, 3, 0)},
      {"1x7 s(1,2)", {2, 5, 12, 4}, {6, 1, 7, 4}, rect(1, 2, 0, 3)},
      {"7x1 s(2,1)", {2, 12, 5, 4}, {6, 7, 1, 4}, rect(2, 1, 3, 0)},
  };
  uint64_t seed = 200;
  for (const auto& c : cases) check_case(c, seed += 3);
}

TEST(ConvGpu, Depthwise) {
  FUSENAS_REQUIRE_GPU();
  std::vector<Case> cases;
  const int64_t c = 24;
  for (const int64_t k : {3, 5}) {
    for (const int64_t dil : {1, 2}) {
      for (const int64_t stride : {1, 2}) {
        cases.push_back({fmt::format("{}x{} dil {} s{}", k, k, dil, stride),
                         {2, 13, 12, c},
                         {c, k, k, 1},
                         Conv2dParams::square(stride, dil * (k - 1) / 2, dil, c)});
      }
    }
  }
  cases.push_back({"7x7 s1", {2, 10, 11, 8}, {8, 7, 7, 1}, Conv2dParams::square(1, 3, 1, 8)});
  cases.push_back({"1x7 s(1,2)", {2, 4, 9, 5}, {5, 1, 7, 1}, {1, 2, 0, 3, 1, 1, 5}});
  cases.push_back({"7x1 s(2,1)", {2, 9, 4, 5}, {5, 7, 1, 1}, {2, 1, 3, 0, 1, 1, 5}});
  cases.push_back({"3x3 no padding", {1, 6, 7, 9}, {9, 3, 3, 1}, Conv2dParams::square(1, 0, 1, 9)});
  cases.push_back({"3x3 padding 3", {1, 4, 5, 9}, {9, 3, 3, 1}, Conv2dParams::square(1, 3, 1, 9)});
  cases.push_back({"4x2 s3", {1, 8, 7, 6}, {6, 4, 2, 1}, {3, 3, 1, 1, 1, 1, 6}});
  cases.push_back({"multiplier 2", {2, 5, 6, 4}, {8, 3, 3, 1}, Conv2dParams::square(1, 1, 1, 4)});
  cases.push_back(
      {"multiplier 3 s2", {1, 6, 6, 3}, {9, 3, 3, 1}, Conv2dParams::square(2, 1, 1, 3)});
  // Many pixels: several slabs of the weight-gradient reduction.
  cases.push_back({"3x3 large", {8, 32, 32, 16}, {16, 3, 3, 1}, Conv2dParams::square(1, 1, 1, 16)});
  uint64_t seed = 300;
  for (const auto& cs : cases) check_case(cs, seed += 3);
}

TEST(ConvGpu, SeparableConvChain) {
  FUSENAS_REQUIRE_GPU();
  // DARTS sep_conv_3x3 body: relu -> depthwise 3x3 -> pointwise 1x1, twice.
  const auto in =
      std::vector{random_float({2, 8, 8, 16}, 400), random_float({16, 3, 3, 1}, 401),
                  random_float({16, 1, 1, 16}, 402, -0.3, 0.3), random_float({16, 3, 3, 1}, 403),
                  random_float({16, 1, 1, 16}, 404, -0.3, 0.3)};
  expect_cuda_matches_cpu("sep_conv", in, [](const auto& v) {
    Tensor h = conv2d(relu(v[0]), v[1], Tensor(), Conv2dParams::square(1, 1, 1, 16));
    h = conv2d(h, v[2], Tensor(), Conv2dParams::square(1, 0));
    h = conv2d(relu(h), v[3], Tensor(), Conv2dParams::square(1, 1, 1, 16));
    return std::vector{conv2d(h, v[4], Tensor(), Conv2dParams::square(1, 0))};
  });
}

TEST(ConvGpu, ViewAtAnElementOffsetRunsOnAnotherAlgorithm) {
  FUSENAS_REQUIRE_GPU();
  // A contiguous view one float into its storage: cuDNN algorithms that need aligned pointers
  // refuse it (BAD_PARAM_MISALIGNED_POINTER; the emulated cuDNN's algorithm 0 does), and the
  // next one must run the call instead of the op throwing.
  const Shape xs{2, 8, 8, 16};
  const auto offset_view = [xs](const Tensor& x) {
    const Tensor padded = concat({zeros({1}, x.options()), x.reshape({-1})}, 0);
    return padded.narrow(0, 1, numel_of(xs)).reshape(xs);
  };
  expect_cuda_matches_cpu(
      "3x3 on an offset view", {random_float(xs, 600), random_float({8, 3, 3, 16}, 601, -0.5, 0.5)},
      [offset_view](const auto& v) {
        return std::vector{conv2d(offset_view(v[0]), v[1], Tensor(), Conv2dParams::square(1, 1))};
      });
}

TEST(ConvGpu, Tf32StaysOffByDefault) {
  FUSENAS_REQUIRE_GPU();
  EXPECT_FALSE(cuda::allow_tf32());
  // A long reduction (C_in * 9 = 1152 terms) that TF32 (10-bit mantissa) would visibly perturb.
  const auto in =
      std::vector{random_float({2, 8, 8, 128}, 500), random_float({32, 3, 3, 128}, 501)};
  expect_cuda_matches_cpu("wide 3x3", in, [](const auto& v) {
    return std::vector{conv2d(v[0], v[1], Tensor(), Conv2dParams::square(1, 1))};
  });
}

}  // namespace
}  // namespace fusenas
