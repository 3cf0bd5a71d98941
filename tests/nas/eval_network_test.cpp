// Evaluation network: published parameter counts, output shapes for both datasets, the
// auxiliary head and drop-path behaviour.
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/eval_network.h"

namespace fusenas::nas {
namespace {

EvalNetworkConfig cifar_paper(const std::string& arch) {
  EvalNetworkConfig c;
  c.genotype = builtin_genotype(arch);
  c.in_channels = 3;
  c.image_size = 32;
  c.init_channels = 36;
  c.layers = 20;
  c.auxiliary = true;
  return c;
}

// The DARTS code reports 3,349,342 parameters for DARTS_V2 and PC-DARTS reports 3.63M for its
// cell (C=36, 20 cells, CIFAR-10, auxiliary head excluded, as the DARTS tables count them).
TEST(EvalNetwork, ParameterCountsMatchThePublishedFigures) {
  Generator gen(0);
  EXPECT_EQ(EvalNetwork(cifar_paper("DARTS_V2"), gen).num_parameters(), 3349342);
  EXPECT_NEAR(EvalNetwork(cifar_paper("PC_DARTS"), gen).num_parameters() / 1e6, 3.63, 0.005);
  EvalNetwork with_aux(cifar_paper("DARTS_V2"), gen);
  EXPECT_GT(with_aux.num_parameters(true), with_aux.num_parameters());
}

TEST(EvalNetwork, ForwardShapesOnFashionMnistAndCifar) {
  for (int64_t channels : {1, 3}) {
    const int64_t size = channels == 1 ? 28 : 32;
    EvalNetworkConfig c;
    c.genotype = builtin_genotype("DARTS_V2");
    c.in_channels = channels;
    c.image_size = size;
    c.init_channels = 8;
    c.layers = 5;
    c.auxiliary = true;
    Generator gen(1);
    EvalNetwork net(c, gen);
    Tensor x = uniform({2, size, size, channels}, -1, 1, gen);
    auto out = net.forward_full(x, 0.2, gen);
    EXPECT_EQ(out.logits.shape(), (Shape{2, 10}));
    ASSERT_TRUE(out.aux_logits.defined());
    EXPECT_EQ(out.aux_logits.shape(), (Shape{2, 10}));
    net.eval();
    auto eval_out = net.forward_full(x, 0.2, gen);
    EXPECT_FALSE(eval_out.aux_logits.defined());
    // Eval mode ignores drop-path: two evaluations agree.
    EXPECT_EQ(net.forward(x).to_vector<float>(), net.forward(x).to_vector<float>());
  }
}

// Directional finite difference through the whole network in double precision: checks every
// op's backward as composed by the cells, FactorizedReduce and the auxiliary head.
TEST(EvalNetwork, GradientMatchesFiniteDifferencesInDouble) {
  for (const char* arch : {"DARTS_V2", "AmoebaNet"}) {
    SCOPED_TRACE(arch);
    EvalNetworkConfig c;
    c.genotype = builtin_genotype(arch);
    c.in_channels = 3;
    c.image_size = 8;
    c.init_channels = 2;
    c.layers = 3;
    Generator gen(5);
    EvalNetwork net(c, gen);
    net.to(DType::Float64);
    const auto f64 = TensorOptions{}.with_dtype(DType::Float64);
    Tensor x = uniform({4, 8, 8, 3}, -1, 1, gen, f64);
    Tensor y = randint({4}, 0, 10, gen);
    auto loss = [&] { return cross_entropy(net.forward(x), y); };
    net.zero_grad();
    loss().backward();
    const auto params = net.parameters();
    std::vector<Tensor> dirs;
    double analytic = 0;
    for (const auto& p : params) {
      dirs.push_back(uniform(p.shape(), -1, 1, gen, f64));
      analytic += sum(mul(p.grad(), dirs.back())).item();
    }
    const double eps = 1e-6;
    auto shift = [&](double s) {
      for (size_t i = 0; i < params.size(); ++i) params[i].add_(dirs[i], s);
    };
    shift(eps);
    const double plus = loss().item();
    shift(-2 * eps);
    const double minus = loss().item();
    shift(eps);
    const double numeric = (plus - minus) / (2 * eps);
    EXPECT_NEAR(analytic, numeric, 1e-6 * std::max(1.0, std::abs(numeric)));
  }
}

TEST(EvalNetwork, TrainingStepReducesTheLossOnAFixedBatch) {
  EvalNetworkConfig c;
  c.genotype = builtin_genotype("DARTS_V2");
  c.in_channels = 1;
  c.image_size = 28;
  c.init_channels = 4;
  c.layers = 3;
  Generator gen(3);
  EvalNetwork net(c, gen);
  Tensor x = uniform({8, 28, 28, 1}, -1, 1, gen);
  Tensor y = randint({8}, 0, 10, gen);
  double first = 0, last = 0;
  for (int step = 0; step < 5; ++step) {
    net.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    if (step == 0) first = loss.item();
    last = loss.item();
    loss.backward();
    for (auto& p : net.parameters()) {
      if (p.grad().defined()) p.add_(p.grad(), -0.01);
    }
  }
  EXPECT_LT(last, first);
}

}  // namespace
}  // namespace fusenas::nas
