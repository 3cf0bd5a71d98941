// DARTS genotype derivation on hand-made alphas: the top-2 edges per node by their strongest
// non-none op, a none-dominated edge, ties, and the order of the kept edges.
#include <gtest/gtest.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/derive.h"

namespace fusenas::nas {
namespace {

// 14 edges of 8 ops, every weight 0.01 except those set.
std::vector<std::vector<double>> base(const SearchSpace& s) {
  return std::vector<std::vector<double>>(s.num_edges(), std::vector<double>(s.num_ops(), 0.01));
}

TEST(DartsDerive, HandMadeAlphas) {
  const SearchSpace s;
  auto w = base(s);
  auto set = [&](int node, int input, const std::string& op, double v) {
    w[s.edge_index(node, input)][s.op_index(op)] = v;
  };
  // Node 0: its two inputs, the stronger listed first.
  set(0, 0, "max_pool_3x3", 0.4);
  set(0, 1, "sep_conv_3x3", 0.5);
  // Node 1: input 0 is dominated by none (0.9) and its best real op is weak, so it loses.
  set(1, 0, "none", 0.9);
  set(1, 0, "skip_connect", 0.05);
  set(1, 1, "dil_conv_3x3", 0.3);
  set(1, 2, "avg_pool_3x3", 0.2);
  // Node 2: four inputs tie at 0.3; the earlier edges win. Input 0 also ties between two ops;
  // the earlier op wins.
  set(2, 0, "sep_conv_5x5", 0.3);
  set(2, 0, "dil_conv_5x5", 0.3);
  set(2, 1, "skip_connect", 0.3);
  set(2, 2, "sep_conv_3x3", 0.3);
  set(2, 3, "max_pool_3x3", 0.3);
  // Node 3: a large none everywhere must not matter; input 4 beats input 0.
  for (int j = 0; j < 5; ++j) set(3, j, "none", 0.95);
  set(3, 0, "dil_conv_5x5", 0.5);
  set(3, 4, "skip_connect", 0.6);

  const std::vector<GenotypeEdge> expected = {
      {"sep_conv_3x3", 1}, {"max_pool_3x3", 0}, {"dil_conv_3x3", 1}, {"avg_pool_3x3", 2},
      {"sep_conv_5x5", 0}, {"skip_connect", 1}, {"skip_connect", 4}, {"dil_conv_5x5", 0}};
  EXPECT_EQ(derive_cell(s, w), expected);

  const Genotype g = derive_genotype(s, w, base(s));
  EXPECT_EQ(g.normal, expected);
  EXPECT_EQ(g.normal_concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(g.reduce_concat, (std::vector<int>{2, 3, 4, 5}));
  // All-equal weights: every node keeps inputs 0 and 1 with the first op after none.
  for (const auto& e : g.reduce) EXPECT_EQ(e.op, "max_pool_3x3");
  EXPECT_NO_THROW(g.validate());
}

TEST(DartsDerive, SpaceWithoutNoneUsesEveryOp) {
  SearchSpace s;
  s.ops = {"skip_connect", "sep_conv_3x3"};
  s.nodes = 2;
  std::vector<std::vector<double>> w(s.num_edges(), {0.6, 0.4});
  w[s.edge_index(1, 2)] = {0.1, 0.9};
  const auto cell = derive_cell(s, w);
  ASSERT_EQ(cell.size(), 4u);
  EXPECT_EQ(cell[2], (GenotypeEdge{"sep_conv_3x3", 2}));
  EXPECT_EQ(cell[3], (GenotypeEdge{"skip_connect", 0}));
}

TEST(DartsDerive, WrongShapeIsAnError) {
  const SearchSpace s;
  EXPECT_THROW(derive_cell(s, std::vector<std::vector<double>>(3, std::vector<double>(8))), Error);
  auto w = base(s);
  w[5].pop_back();
  EXPECT_THROW(derive_cell(s, w), Error);
}

}  // namespace
}  // namespace fusenas::nas
