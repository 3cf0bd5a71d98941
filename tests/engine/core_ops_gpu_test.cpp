// CUDA backend of the core ops (copies, elementwise, reductions, matmul) against the CPU.
#include <gtest/gtest.h>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::expect_cuda_matches_cpu;
using testing::random_float;

TEST(CoreOpsGpu, TransfersRoundTrip) {
  FUSENAS_REQUIRE_GPU();
  Tensor x = random_float({3, 5, 7}, 1);
  Tensor y = x.to(Device::cuda()).permute({2, 0, 1}).contiguous().to(Device::cpu());
  EXPECT_EQ(y.to_vector<float>(), x.permute({2, 0, 1}).contiguous().to_vector<float>());
  Tensor z = x.to(Device::cuda()).to(DType::Float64).to(Device::cpu());
  EXPECT_EQ(z.to_vector<double>(), x.to(DType::Float64).to_vector<double>());
}

TEST(CoreOpsGpu, ElementwiseMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  const Shape s{8, 9, 9, 16};
  for (const auto& [sa, sb] : std::vector<std::pair<Shape, Shape>>{
           {s, s}, {s, {}}, {s, {16}}, {{8, 1, 9, 1}, {9, 1, 16}}}) {
    const auto in = std::vector{random_float(sa, 1, -2, 2), random_float(sb, 2, 0.5, 2)};
    expect_cuda_matches_cpu("add", in, [](const auto& x) { return std::vector{add(x[0], x[1])}; });
    expect_cuda_matches_cpu("sub", in, [](const auto& x) { return std::vector{sub(x[0], x[1])}; });
    expect_cuda_matches_cpu("mul", in, [](const auto& x) { return std::vector{mul(x[0], x[1])}; });
    expect_cuda_matches_cpu("div", in, [](const auto& x) { return std::vector{div(x[0], x[1])}; });
  }
  const auto x = std::vector{random_float(s, 3, -2, 2)};
  const auto pos = std::vector{random_float(s, 4, 0.1, 2)};
  expect_cuda_matches_cpu("relu", x, [](const auto& v) { return std::vector{relu(v[0])}; });
  expect_cuda_matches_cpu("sigmoid", x, [](const auto& v) { return std::vector{sigmoid(v[0])}; });
  expect_cuda_matches_cpu("tanh", x, [](const auto& v) { return std::vector{tanh(v[0])}; });
  expect_cuda_matches_cpu("exp", x, [](const auto& v) { return std::vector{exp(v[0])}; });
  expect_cuda_matches_cpu("log", pos, [](const auto& v) { return std::vector{log(v[0])}; });
  expect_cuda_matches_cpu("scale", x, [](const auto& v) { return std::vector{scale(v[0], -0.7)}; });
  expect_cuda_matches_cpu("square", x, [](const auto& v) { return std::vector{square(v[0])}; });
  expect_cuda_matches_cpu("sqrt", pos, [](const auto& v) { return std::vector{sqrt(v[0])}; });
  expect_cuda_matches_cpu("clamp_max", x,
                          [](const auto& v) { return std::vector{clamp_max(v[0], 0.4)}; });
  expect_cuda_matches_cpu(
      "slice", x, [](const auto& v) { return std::vector{v[0].slice(1, 1, 9).slice(2, 1, 9, 2)}; });
}

TEST(CoreOpsGpu, ReductionsAndMatmulMatchCpu) {
  FUSENAS_REQUIRE_GPU();
  const auto x = std::vector{random_float({16, 9, 9, 12}, 5)};
  for (const std::vector<int64_t>& axes :
       std::vector<std::vector<int64_t>>{{0, 1, 2}, {3}, {1, 2}, {0}}) {
    expect_cuda_matches_cpu("sum", x, [&](const auto& v) { return std::vector{sum(v[0], axes)}; });
    expect_cuda_matches_cpu("mean", x,
                            [&](const auto& v) { return std::vector{mean(v[0], axes, true)}; });
  }
  expect_cuda_matches_cpu("matmul", {random_float({37, 50}, 6), random_float({50, 23}, 7)},
                          [](const auto& v) { return std::vector{matmul(v[0], v[1])}; });
  expect_cuda_matches_cpu("bmm", {random_float({3, 17, 20}, 8), random_float({3, 20, 9}, 9)},
                          [](const auto& v) { return std::vector{matmul(v[0], v[1])}; });
  expect_cuda_matches_cpu(
      "linear", {random_float({8, 5, 64}, 10), random_float({10, 64}, 11), random_float({10}, 12)},
      [](const auto& v) { return std::vector{linear(v[0], v[1], v[2])}; });
  Tensor logits = random_float({33, 10}, 13);
  EXPECT_EQ(argmax_last(logits.to(Device::cuda())).to_vector<int64_t>(),
            argmax_last(logits).to_vector<int64_t>());
}

TEST(CoreOpsGpu, ArgmaxWritesRowsBeyondTheGridCap) {
  FUSENAS_REQUIRE_GPU();
  // More rows than one thread per row of a capped grid covers (the emulator caps the grid at 16
  // blocks of 256; a card at 134 M rows): every row must still be written, not left poisoned.
  Tensor logits = random_float({20000, 3}, 14);
  cuda::set_poison_allocations(true);
  const auto gpu = argmax_last(logits.to(Device::cuda())).to_vector<int64_t>();
  cuda::set_poison_allocations(false);
  EXPECT_EQ(gpu, argmax_last(logits).to_vector<int64_t>());
}

}  // namespace
}  // namespace fusenas
