// CUDA core ops beyond their case tables (checked against the CPU by op_cases_gpu_test): host
// transfers, strided slices, and argmax (also past the grid cap).
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

TEST(CoreOpsGpu, StridedSliceMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  expect_cuda_matches_cpu("slice", {random_float({8, 9, 9, 16}, 3, -2, 2)}, [](const auto& v) {
    return std::vector{v[0].slice(1, 1, 9).slice(2, 1, 9, 2)};
  });
}

TEST(CoreOpsGpu, ArgmaxMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
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
