// The fused darts_cell op against the op-by-op composition of the same SearchCell (same weights):
// output, the gradients of both inputs, of the alphas and of every weight, and the running
// statistics, for normal and reduction cells, the relaxation and sampled choices, the full op set,
// subsets and ops that fall back to the composed path, in training and evaluation mode.
#include <gtest/gtest.h>

#include <map>

#include "fusenas/engine/darts_cell.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/primitives.h"
#include "fusenas/nas/space/supernet.h"
#include "support/darts_cell_harness.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

using testing::CellCase;
using testing::CellHarness;
using testing::geometry_cases;
using testing::Outcome;

TEST(DartsCell, RelaxationMatchesComposedInFloat64) {
  for (const CellCase& k : geometry_cases()) {
    CellHarness h(k, DType::Float64, 11);
    const Outcome composed = h.run(false, true);
    const Outcome fused = h.run(true, true);
    testing::expect_same(fused, composed, 1e-10, testing::name_of(k));
  }
}

TEST(DartsCell, RelaxationMatchesComposedInFloat32) {
  for (CellCase k : geometry_cases()) {
    k.batch = 4;
    k.c = 8;
    CellHarness h(k, DType::Float32, 12);
    testing::expect_same(h.run(true, true), h.run(false, true), 1e-5, testing::name_of(k));
  }
}

TEST(DartsCell, SubsetsAndFallbackOpsMatchComposed) {
  const std::vector<std::vector<std::string>> op_sets = {
      {"sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "skip_connect"},  // ENAS
      {"none", "dil_conv_3x3"},
      {"sep_conv_7x7", "conv_7x1_1x7", "skip_connect", "max_pool_3x3"},  // one fallback op
  };
  for (const auto& ops : op_sets) {
    for (const bool reduction : {false, true}) {
      CellCase k;
      k.ops = ops;
      k.nodes = ops.size() == 5 ? 5 : 3;
      k.reduction = reduction;
      k.reduction_prev = !reduction;
      CellHarness h(k, DType::Float64, 13);
      testing::expect_same(h.run(true, true), h.run(false, true), 1e-10, testing::name_of(k));
    }
  }
}

TEST(DartsCell, SampledChoicesMatchComposed) {
  for (const CellCase& k : geometry_cases()) {
    CellHarness h(k, DType::Float64, 14);
    // Node 0 sums two ops of one edge, node 1 one op twice, node 3 repeats an input; node 2 is
    // left out of the output but feeds node 3.
    CellChoice choice;
    choice.nodes = {{{0, 4}, {0, 1}}, {{2, 6}, {2, 6}}, {{1, 3}, {0, 2}}, {{4, 5}, {3, 7}}};
    choice.concat = {2, 3, 5};
    const Outcome composed = h.run(false, true, &choice);
    const Outcome fused = h.run(true, true, &choice);
    testing::expect_same(fused, composed, 1e-10, testing::name_of(k));
    // Only the chosen ops' weights have gradients (one-shot sampling's cost model).
    int with_grad = 0;
    for (const auto& [name, g] : fused.grads) with_grad += g.defined() ? 1 : 0;
    EXPECT_GT(with_grad, 0);
    EXPECT_LT(with_grad, static_cast<int>(fused.grads.size()));
  }
}

TEST(DartsCell, EvaluationModeUsesEachEdgesRunningStatistics) {
  for (const CellCase& k : geometry_cases()) {
    CellHarness h(k, DType::Float64, 15);
    h.distinct_running_statistics();
    const Outcome composed = h.run(false, false);
    const Outcome fused = h.run(true, false);
    testing::expect_same(fused, composed, 1e-10, testing::name_of(k) + " (eval)");
  }
}

TEST(DartsCell, LargeEvaluationBatchesWithoutGradientsMatchComposed) {
  // Past 32 samples the op evaluates in slices (the last one short here).
  CellCase k = geometry_cases()[1];
  k.batch = 70;
  k.size = 4;
  CellHarness h(k, DType::Float64, 18);
  h.distinct_running_statistics();
  EXPECT_TENSOR_NEAR(h.evaluate(true), h.evaluate(false), 1e-10);
}

TEST(DartsCell, FrozenWeightsGetNoGradientButAlphasDo) {
  CellCase k = geometry_cases()[0];
  CellHarness h(k, DType::Float64, 16);
  const Outcome composed = h.run(false, true, nullptr, /*weights_need_grad=*/false,
                                 /*inputs_need_grad=*/false);
  const Outcome fused = h.run(true, true, nullptr, false, false);
  testing::expect_same(fused, composed, 1e-10, "frozen weights, inputs without gradient");
  ASSERT_TRUE(fused.galpha.defined());
  for (const auto& [name, g] : fused.grads) EXPECT_FALSE(g.defined()) << name;
}

TEST(DartsCell, BadArgumentsFailWithOneClearMessage) {
  CellHarness h(geometry_cases()[0], DType::Float32, 17);
  SearchCell& cell = h.cell();
  Generator gen(1);
  const Tensor s0 = normal({2, 8, 8, 6}, 0, 1, gen), s1 = normal({2, 8, 8, 5}, 0, 1, gen);
  const Tensor w = softmax(zeros({14, 8}));
  try {
    cell.forward_mixed(normal({2, 8, 8, 7}, 0, 1, gen), s1, w);
    FAIL() << "wrong channel count accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("preprocess0"), std::string::npos) << e.what();
  }
  try {
    cell.forward_mixed(s0, s1, softmax(zeros({14, 7})));
    FAIL() << "wrong mixing shape accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[14, 8]"), std::string::npos) << e.what();
  }
  try {
    cell.forward_mixed(s0, normal({3, 8, 8, 5}, 0, 1, gen), w);
    FAIL() << "mismatched batches accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one batch"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fusenas::nas
