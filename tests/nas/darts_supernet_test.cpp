// The supernet's invariants: one-shot sampling equals the mixture with one-hot weights on the same
// shared weights, only sampled ops receive gradients, shapes, and bad inputs.
#include <gtest/gtest.h>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/space/supernet.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

SearchSpace small_space() {
  SearchSpace s;
  s.channels = 4;
  s.cells = 3;
  s.in_channels = 1;
  s.image_size = 8;
  return s;
}

TEST(DartsSupernet, SampledCellEqualsMixtureWithOneHotWeights) {
  const SearchSpace s = small_space();
  for (const bool reduction : {false, true}) {
    Generator gen(3);
    SearchCell cell(s, 12, 12, 4, reduction, false, gen);
    const Tensor s0 = normal({2, 8, 8, 12}, 0, 1, gen);
    const Tensor s1 = normal({2, 8, 8, 12}, 0, 1, gen);
    // Distinct inputs per node, so each (node, input) edge carries at most one op.
    const Genotype g = Genotype::parse_text(
        "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('skip_connect', 2), "
        "('max_pool_3x3', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 3), ('dil_conv_3x3', 4), "
        "('skip_connect', 0)], normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_3x3', 0), "
        "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
        "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], reduce_concat=[2])");
    const CellChoice choice = cell_choice(s, g.normal, g.normal_concat);
    Tensor onehot = zeros({s.num_edges(), s.num_ops()});
    for (int node = 0; node < s.nodes; ++node) {
      for (const auto& [input, op] : choice.nodes[node]) {
        const Tensor row = onehot.narrow(0, s.edge_index(node, input), 1).narrow(1, op, 1);
        row.fill_(1.0);
      }
    }
    const NoGradGuard no_grad;
    const Tensor sampled = cell.forward_sampled(s0, s1, choice);
    const Tensor mixed = cell.forward_mixed(s0, s1, onehot);
    EXPECT_EQ(shape_str(sampled.shape()), shape_str(mixed.shape()));
    EXPECT_LE(testing::max_relative_error(sampled, mixed), 1e-6) << "reduction " << reduction;

    // A node left out of the concat reaches the output as zeros.
    CellChoice partial = choice;
    partial.concat = {2, 4, 5};
    const Tensor masked = cell.forward_sampled(s0, s1, partial);
    const int64_t c = 4;
    EXPECT_EQ(sum(square(masked.narrow(3, c, c))).item(), 0.0);
    EXPECT_LE(testing::max_relative_error(masked.narrow(3, 0, c), sampled.narrow(3, 0, c)), 0.0);
  }
}

TEST(DartsSupernet, OnlySampledOpsGetGradients) {
  Generator gen(5);
  Supernet net(small_space(), gen);
  const Genotype g = builtin_genotype("DARTS_V2");
  const CellChoice cn = cell_choice(net.space(), g.normal, g.normal_concat);
  const CellChoice cr = cell_choice(net.space(), g.reduce, g.reduce_concat);
  const Tensor x = fusenas::normal({2, 8, 8, 1}, 0, 1, gen);
  const Tensor y = randint({2}, 0, 10, gen);
  const Tensor logits = net.forward_sampled(x, cn, cr);
  EXPECT_EQ(shape_str(logits.shape()), "[2, 10]");
  cross_entropy(logits, y).backward();
  EXPECT_FALSE(net.arch().normal.grad().defined());
  EXPECT_FALSE(net.arch().reduce.grad().defined());
  int chosen_with_grad = 0;
  for (const auto& [name, p] : net.named_parameters()) {
    const auto e_at = name.find(".edge_");
    if (e_at == std::string::npos) {
      EXPECT_TRUE(p.grad().defined()) << name;
      continue;
    }
    const int cell = std::stoi(name.substr(6, e_at - 6));
    const std::string rest = name.substr(e_at + 6);
    const int edge = std::stoi(rest);
    const int op = std::stoi(rest.substr(rest.find('.') + 1));
    const CellChoice& c = net.space().is_reduction(cell) ? cr : cn;
    bool chosen = false;
    for (int node = 0; node < net.space().nodes; ++node) {
      for (const auto& [input, k] : c.nodes[node])
        chosen = chosen || (net.space().edge_index(node, input) == edge && k == op);
    }
    EXPECT_EQ(p.grad().defined(), chosen) << name;
    chosen_with_grad += chosen;
  }
  EXPECT_GT(chosen_with_grad, 0);
}

TEST(DartsSupernet, MixedForwardShapesAndAlphaGradients) {
  Generator gen(9);
  Supernet net(small_space(), gen);
  EXPECT_EQ(shape_str(net.arch().normal.shape()), "[14, 8]");
  const Tensor x = fusenas::normal({3, 8, 8, 1}, 0, 1, gen);
  const Tensor y = randint({3}, 0, 10, gen);
  cross_entropy(net.forward_mixed(x), y).backward();
  EXPECT_TRUE(net.arch().normal.grad().defined());
  EXPECT_TRUE(net.arch().reduce.grad().defined());
  net.zero_grad();
  net.arch().zero_grad();
  cross_entropy(net.forward_mixed(x, false), y).backward();
  EXPECT_FALSE(net.arch().normal.grad().defined());
  // The initial alphas are 1e-3 * N(0, 1): the softmax is close to uniform.
  EXPECT_NEAR(net.normal_weights().at({0, 0}), 1.0 / 8, 1e-3);
  EXPECT_NO_THROW(net.genotype().validate());
}

TEST(DartsSupernet, BadInputsAreClearErrors) {
  Generator gen(1);
  Supernet net(small_space(), gen);
  EXPECT_THROW(net.forward_mixed(zeros({2, 8, 8, 3})), Error);
  EXPECT_THROW(cell_choice(net.space(), {{"sep_conv_7x7", 0}, {"skip_connect", 1}}, {2}), Error);
  const Genotype g = builtin_genotype("NASNet");  // uses ops outside the DARTS candidates
  EXPECT_THROW(cell_choice(net.space(), g.normal, g.normal_concat), Error);
  SearchSpace bad = small_space();
  bad.channels = 3;
  EXPECT_THROW(Supernet(bad, gen), Error);
  bad = small_space();
  bad.ops = {"none"};
  EXPECT_THROW(Supernet(bad, gen), Error);
  bad.ops = {"sep_conv_3x3", "conv_9x9"};
  EXPECT_THROW(Supernet(bad, gen), Error);
}

}  // namespace
}  // namespace fusenas::nas
