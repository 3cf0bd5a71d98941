// Every op case table's GPU cases (tests/cases/<op>.cpp): CUDA against the CPU in float32 and
// float64, forward and backward, with NaN-poisoned allocations, one gtest per op.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "cases/op_case.h"
#include "support/gpu_compare.h"

namespace fusenas {
namespace {

class OpGpu : public ::testing::TestWithParam<std::string> {};

TEST_P(OpGpu, MatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  for (const cases::OpCase& c : cases::cases_of(GetParam())) {
    if (!(c.checks & cases::kGpu)) continue;
    for (const DType dtype : {DType::Float32, DType::Float64}) {
      testing::expect_cuda_matches_cpu(fmt::format("{} {}", c.label(), dtype_name(dtype)),
                                       c.make_inputs(dtype), c.run, c.tolerance, c.grad_inputs());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, OpGpu, ::testing::ValuesIn(cases::op_names_with(cases::kGpu)),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace fusenas
