// CUDA conv2d beyond its case table (tests/cases/conv2d.cpp, checked against the CPU by
// op_cases_gpu_test): a DARTS separable-conv chain, TF32 staying off, and a view at an element
// offset (misaligned for some cuDNN algorithms).
#include <gtest/gtest.h>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::random_float;

TEST(Conv2dGpu, SeparableConvChain) {
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

TEST(Conv2dGpu, ViewAtAnElementOffsetRunsOnAnotherAlgorithm) {
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

TEST(Conv2dGpu, Tf32StaysOffByDefault) {
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
