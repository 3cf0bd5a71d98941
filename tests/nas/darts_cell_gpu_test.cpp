// The fused darts_cell op on CUDA against the composed cell on the CPU, from the same weights and
// inputs: output, every gradient and the running statistics, for the four cell geometries, op
// subsets with an op that falls back to the composed path, sampled choices and evaluation mode.
// In float64 any gap above rounding is a logic error.
#include <gtest/gtest.h>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "support/darts_cell_harness.h"
#include "support/gpu_compare.h"

namespace fusenas::testing {
namespace {

TEST(DartsCellGpu, RelaxationMatchesComposedCpu) {
  FUSENAS_REQUIRE_GPU();
  for (const CellCase& k : geometry_cases()) {
    CellHarness cpu(k, DType::Float64, 31);
    CellHarness gpu(k, DType::Float64, 31, Device::cuda());
    expect_same(gpu.run(true, true), cpu.run(false, true), 1e-10, name_of(k));
  }
}

TEST(DartsCellGpu, Float32RelaxationMatchesComposedCpu) {
  FUSENAS_REQUIRE_GPU();
  // Large enough for every pass to spread over several blocks (partial sums, last-block totals).
  CellCase k = geometry_cases()[1];
  k.batch = 4;
  k.size = 16;
  k.c = 8;
  CellHarness cpu(k, DType::Float32, 32);
  CellHarness gpu(k, DType::Float32, 32, Device::cuda());
  // Float32 sums in another order: a running mean near zero differs by ~3e-5 relative.
  expect_same(gpu.run(true, true), cpu.run(false, true), 1e-4, name_of(k));
}

TEST(DartsCellGpu, SubsetsAndFallbackOpsMatchComposedCpu) {
  FUSENAS_REQUIRE_GPU();
  const std::vector<std::vector<std::string>> op_sets = {
      {"sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "skip_connect"},
      {"sep_conv_7x7", "conv_7x1_1x7", "skip_connect", "max_pool_3x3"},  // one fallback op
  };
  for (const auto& ops : op_sets) {
    CellCase k;
    k.ops = ops;
    k.nodes = 3;
    k.reduction = ops.size() == 4;
    k.reduction_prev = !k.reduction;
    CellHarness cpu(k, DType::Float64, 33);
    CellHarness gpu(k, DType::Float64, 33, Device::cuda());
    expect_same(gpu.run(true, true), cpu.run(false, true), 1e-10, name_of(k));
  }
}

TEST(DartsCellGpu, SampledChoiceMatchesComposedCpu) {
  FUSENAS_REQUIRE_GPU();
  const CellCase k = geometry_cases()[2];
  nas::CellChoice choice;
  choice.nodes = {{{0, 4}, {0, 1}}, {{2, 6}, {2, 6}}, {{1, 3}, {0, 2}}, {{4, 5}, {3, 7}}};
  choice.concat = {2, 3, 5};
  CellHarness cpu(k, DType::Float64, 34);
  CellHarness gpu(k, DType::Float64, 34, Device::cuda());
  expect_same(gpu.run(true, true, &choice), cpu.run(false, true, &choice), 1e-10, name_of(k));
}

TEST(DartsCellGpu, EvaluationModeMatchesComposedCpu) {
  FUSENAS_REQUIRE_GPU();
  CellCase k = geometry_cases()[3];
  k.size = 12;
  CellHarness cpu(k, DType::Float64, 35);
  CellHarness gpu(k, DType::Float64, 35, Device::cuda());
  cpu.distinct_running_statistics();
  gpu.distinct_running_statistics();
  expect_same(gpu.run(true, false), cpu.run(false, false), 1e-10, name_of(k) + " (eval)");
}

}  // namespace
}  // namespace fusenas::testing
