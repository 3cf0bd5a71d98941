// Network morphisms: every kind keeps a trained parent's function (float64 and float32), the child
// is a valid point with the parameter count worked by hand, training continues from it, the
// offered morphisms are always valid, and chains of morphisms still keep the function.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/nn/batch_norm.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/space/morphism.h"
#include "support/expect.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using Json = nlohmann::json;
using T = ChainLayerType;

const ImageShape kShape{2, 8, 5};  // 2 channels, 8 x 8, 5 classes

double tolerance(DType d) {
  return d == DType::Float64 ? 1e-10 : 1e-5;
}

ChainOptions small_options() {
  ChainOptions o;
  o.max_layers = 6;
  o.filters = {8, 12, 16};
  o.kernels = {3, 5};
  o.max_reductions = 2;
  o.stem_channels = 8;
  return o;
}

// Random BN parameters and running statistics (positive variances), then two SGD steps on random
// data, so that no check passes because a BN or a weight is still at its initial value.
void make_trained(nn::Module& net, DType dtype, int64_t in_channels, Generator& gen) {
  net.to(dtype);
  {
    NoGradGuard no_grad;
    for (const auto& [name, m] : net.named_modules()) {
      auto* bn = dynamic_cast<nn::BatchNorm2d*>(m);
      if (bn == nullptr) continue;
      const Shape s{bn->num_features()};
      const TensorOptions o = TensorOptions{}.with_dtype(dtype);
      if (bn->weight.defined()) bn->weight.copy_(uniform(s, 0.5, 1.5, gen, o));
      if (bn->bias.defined()) bn->bias.copy_(uniform(s, -0.3, 0.3, gen, o));
      bn->running_mean.copy_(uniform(s, -0.5, 0.5, gen, o));
      bn->running_var.copy_(uniform(s, 0.5, 2.0, gen, o));
    }
  }
  net.train();
  optim::SGD sgd(net.parameters(), 0.05);
  for (int step = 0; step < 2; ++step) {
    const Tensor x = uniform({4, kShape.size, kShape.size, in_channels}, -1, 1, gen,
                             TensorOptions{}.with_dtype(dtype));
    const Tensor y = randint({4}, 0, kShape.classes, gen);
    net.zero_grad();
    cross_entropy(net.forward(x), y).backward();
    sgd.step();
  }
}

// The largest |child - parent| over the logits of a random batch, both in evaluation mode.
double max_diff(nn::Module& parent, nn::Module& child, DType dtype, Generator& gen) {
  parent.eval();
  child.eval();
  const Tensor x = uniform({3, kShape.size, kShape.size, kShape.channels}, -1, 1, gen,
                           TensorOptions{}.with_dtype(dtype));
  NoGradGuard no_grad;
  const auto a = parent.forward(x).to_vector<double>();
  const auto b = child.forward(x).to_vector<double>();
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

std::shared_ptr<ChainNetwork> chain_net(const ChainArch& a, const ChainSpace& space, DType dtype,
                                        Generator& gen) {
  auto net = std::dynamic_pointer_cast<ChainNetwork>(space.build(to_json(a), kShape, gen));
  make_trained(*net, dtype, kShape.channels, gen);
  return net;
}

ChainArch arch(std::vector<ChainLayer> layers) {
  return ChainArch{std::move(layers)};
}

// Architectures that between them offer every chain morphism, readers of every kind included.
std::vector<ChainArch> chain_archs() {
  return {
      arch({{T::kConv, 3, 8, 1}}),
      arch({{T::kConv, 3, 8, 2}, {T::kMaxPool, 3, 0, 1}, {T::kSepConv, 3, 12, 1}}),
      arch({{T::kSepConv, 3, 8, 1},
            {T::kIdentity, 0, 0, 1},
            {T::kConv, 3, 12, 2},
            {T::kAvgPool, 3, 0, 1},
            {T::kConv, 5, 8, 1}}),
      arch({{T::kMaxPool, 3, 0, 2}, {T::kConv, 3, 12, 1}, {T::kSepConv, 3, 8, 1}}),
  };
}

TEST(ChainMorphism, EveryKindKeepsTheFunctionInFloat64AndFloat32) {
  const ChainSpace space(small_options());
  Generator gen(11);
  for (DType dtype : {DType::Float64, DType::Float32}) {
    std::map<MorphismKind, double> worst;
    std::map<MorphismKind, int> count;
    for (const ChainArch& a : chain_archs()) {
      auto parent = chain_net(a, space, dtype, gen);
      for (const Morphism& m : applicable_morphisms(a, space)) {
        const MorphedChain child = apply_morphism(*parent, a, space, m, gen);
        EXPECT_EQ(child.arch, morph_arch(a, space, m));
        EXPECT_NO_THROW(space.validate(to_json(child.arch)));
        EXPECT_EQ(child.network->parameters().front().dtype(), dtype);
        const double d = max_diff(*parent, *child.network, dtype, gen);
        EXPECT_LE(d, tolerance(dtype)) << to_text(a) << " " << to_text(m);
        worst[m.kind] = std::max(worst[m.kind], d);
        ++count[m.kind];
      }
    }
    for (MorphismKind k :
         {MorphismKind::kDeepen, MorphismKind::kWiden, MorphismKind::kGrowKernel}) {
      EXPECT_GE(count[k], 3) << morphism_kind_name(k);
      std::printf("chain %s %s: %d morphisms, max |diff| %.3g\n", dtype_name(dtype).data(),
                  morphism_kind_name(k).data(), count[k], worst[k]);
    }
  }
}

TEST(ChainMorphism, DeepenOnlyWhereTheNewReLUIsAbsorbed) {
  const ChainSpace space(small_options());
  // After the conv the avg pool and then the classifier's average would see ReLU's clipping; only
  // before the conv (which starts with ReLU) may a layer go. The max pool commutes with ReLU.
  const ChainArch a = arch({{T::kConv, 3, 12, 1}, {T::kAvgPool, 3, 0, 1}, {T::kMaxPool, 3, 0, 1}});
  std::vector<int> positions;
  for (const Morphism& m : applicable_morphisms(a, space))
    if (m.kind == MorphismKind::kDeepen) positions.push_back(m.layer);
  EXPECT_EQ(positions, (std::vector<int>{0, 0}));  // kernels 3 and 5
  const ChainArch b = arch({{T::kConv, 3, 12, 1}, {T::kMaxPool, 3, 0, 1}, {T::kSepConv, 3, 8, 1}});
  positions.clear();
  for (const Morphism& m : applicable_morphisms(b, space))
    if (m.kind == MorphismKind::kDeepen && m.value == 3) positions.push_back(m.layer);
  EXPECT_EQ(positions, (std::vector<int>{0, 1, 2}));
  expect_error(
      [&] {
        (void)morph_arch(a, space, {MorphismKind::kDeepen, 1, 3});
      },
      {"deepen@1 k3", "not applicable", "conv3x3x12 avg_pool3x3 max_pool3x3"});
  // A full network and the largest width and kernel leave nothing.
  ChainOptions o = small_options();
  o.max_layers = 1;
  o.max_reductions = 1;
  EXPECT_TRUE(applicable_morphisms(arch({{T::kConv, 5, 16, 1}}), ChainSpace(o)).empty());
  expect_error(
      [&] {
        Generator gen(1);
        const ChainSpace s(o);
        const ChainArch full = arch({{T::kConv, 5, 16, 1}});
        auto net = std::dynamic_pointer_cast<ChainNetwork>(s.build(to_json(full), kShape, gen));
        (void)apply_random_morphism(*net, full, s, gen);
      },
      {"conv5x5x16", "no applicable morphism"});
}

TEST(ChainMorphism, ChildParameterCountsWorkedByHand) {
  const ChainSpace space(small_options());
  Generator gen(12);
  const ChainArch a = arch({{T::kConv, 3, 8, 1}, {T::kSepConv, 3, 8, 1}});
  auto parent = chain_net(a, space, DType::Float64, gen);
  // stem 2*8*9 + 16 = 160; conv 8*8*9 + 16 = 592; sep conv 8*9 + 8*8 + 16 = 152; classifier
  // 8*5 + 5 = 45.
  EXPECT_EQ(parent->num_parameters(), 160 + 592 + 152 + 45);
  // Deepen at 1 with a 5x5 kernel: + 8*8*25 + 16 = 1616.
  EXPECT_EQ(apply_morphism(*parent, a, space, {MorphismKind::kDeepen, 1, 5}, gen)
                .network->num_parameters(),
            160 + 592 + 1616 + 152 + 45);
  // Widen layer 0 to 16: conv 8*16*9 + 32 = 1184; the sep conv reads 16: 16*9 + 16*8 + 16 = 288.
  EXPECT_EQ(apply_morphism(*parent, a, space, {MorphismKind::kWiden, 0, 16}, gen)
                .network->num_parameters(),
            160 + 1184 + 288 + 45);
  // Widen layer 1 to 12: sep conv 8*9 + 8*12 + 24 = 192; classifier 12*5 + 5 = 65.
  EXPECT_EQ(apply_morphism(*parent, a, space, {MorphismKind::kWiden, 1, 12}, gen)
                .network->num_parameters(),
            160 + 592 + 192 + 65);
  // Grow the sep conv to 5x5: depthwise 8*25.
  EXPECT_EQ(apply_morphism(*parent, a, space, {MorphismKind::kGrowKernel, 1, 5}, gen)
                .network->num_parameters(),
            160 + 592 + 8 * 25 + 64 + 16 + 45);
}

TEST(ChainMorphism, TrainingContinuesFromTheChild) {
  const ChainSpace space(small_options());
  Generator gen(13);
  const ChainArch a = arch({{T::kConv, 3, 8, 2}, {T::kSepConv, 3, 12, 1}});
  auto parent = chain_net(a, space, DType::Float64, gen);
  const auto f64 = TensorOptions{}.with_dtype(DType::Float64);
  const Tensor x = uniform({6, 8, 8, 2}, -1, 1, gen, f64);
  const Tensor y = randint({6}, 0, kShape.classes, gen);
  for (const Morphism& m :
       {Morphism{MorphismKind::kDeepen, 1, 3}, Morphism{MorphismKind::kWiden, 0, 16},
        Morphism{MorphismKind::kGrowKernel, 0, 5}}) {
    auto child = apply_morphism(*parent, a, space, m, gen).network;
    const auto eval_loss = [&](nn::Module& net) {
      net.eval();
      NoGradGuard no_grad;
      return cross_entropy(net.forward(x), y).item();
    };
    const double before = eval_loss(*child);
    EXPECT_NEAR(before, eval_loss(*parent), 1e-10) << to_text(m);
    child->train();
    optim::SGD sgd(child->parameters(), 0.1);
    child->zero_grad();
    cross_entropy(child->forward(x), y).backward();
    for (const auto& [name, p] : child->named_parameters())
      ASSERT_TRUE(p.grad().defined()) << to_text(m) << " " << name;
    sgd.step();
    const double after = eval_loss(*child);
    EXPECT_TRUE(std::isfinite(after)) << to_text(m);
    EXPECT_GT(std::abs(after - before), 1e-6) << to_text(m);
  }
}

TEST(ChainMorphism, OfferedMorphismsAreAlwaysValidPoints) {
  ChainOptions tight = small_options();
  tight.max_layers = 3;
  tight.max_reductions = 1;
  for (const ChainOptions& options : {ChainOptions{}, small_options(), tight}) {
    const ChainSpace space(options);
    Generator gen(14);
    std::map<MorphismKind, int> seen;
    for (int i = 0; i < 500; ++i) {
      const ChainArch a = space.arch(space.sample(gen));
      for (const Morphism& m : applicable_morphisms(a, space)) {
        const ChainArch child = morph_arch(a, space, m);
        EXPECT_NO_THROW(space.validate(to_json(child))) << to_text(a) << " " << to_text(m);
        EXPECT_EQ(child.layers.size(), a.layers.size() + (m.kind == MorphismKind::kDeepen));
        ++seen[m.kind];
      }
    }
    EXPECT_GT(seen[MorphismKind::kDeepen], 100);
    EXPECT_GT(seen[MorphismKind::kWiden], 100);
    EXPECT_GT(seen[MorphismKind::kGrowKernel], 100);
  }
  // And on sampled networks a random offered morphism keeps the function.
  const ChainSpace space(small_options());
  Generator gen(15);
  for (int i = 0; i < 20; ++i) {
    const ChainArch a = space.arch(space.sample(gen));
    if (applicable_morphisms(a, space).empty()) continue;
    auto parent = chain_net(a, space, DType::Float64, gen);
    const MorphedChain child = apply_random_morphism(*parent, a, space, gen);
    EXPECT_LE(max_diff(*parent, *child.network, DType::Float64, gen), 1e-10)
        << to_text(a) << " " << to_text(child.morphism);
  }
}

TEST(ChainMorphism, ChainsOfMorphismsKeepTheFunction) {
  const ChainSpace space(small_options());
  Generator gen(16);
  for (DType dtype : {DType::Float64, DType::Float32}) {
    double worst = 0;
    for (const ChainArch& start : chain_archs()) {
      auto parent = chain_net(start, space, dtype, gen);
      std::shared_ptr<ChainNetwork> net = parent;
      ChainArch a = start;
      std::string path;
      for (int step = 0; step < 6 && !applicable_morphisms(a, space).empty(); ++step) {
        MorphedChain child = apply_random_morphism(*net, a, space, gen);
        path += " " + to_text(child.morphism);
        a = child.arch;
        net = child.network;
      }
      const double d = max_diff(*parent, *net, dtype, gen);
      EXPECT_LE(d, tolerance(dtype)) << to_text(start) << " ->" << path;
      worst = std::max(worst, d);
    }
    std::printf("chain %s, 6 morphisms in a row: max |diff| %.3g\n", dtype_name(dtype).data(),
                worst);
  }
}

TEST(ChainMorphism, RefusesAParentOfAnotherArchitecture) {
  const ChainSpace space(small_options());
  Generator gen(17);
  const ChainArch a = arch({{T::kConv, 3, 8, 1}});
  const ChainArch b = arch({{T::kConv, 3, 12, 1}});
  auto net = chain_net(a, space, DType::Float32, gen);
  expect_error(
      [&] {
        (void)apply_morphism(*net, b, space, {MorphismKind::kWiden, 0, 16}, gen);
      },
      {"parameters", "conv3x3x12"});
  expect_error(
      [&] {
        (void)apply_morphism(*net, a, space, {MorphismKind::kAddSkip, 0, 0}, gen);
      },
      {"add_skip", "not applicable"});
}

// ---- multi-branch space ----

MultiBranchSpace mb_space() {
  MultiBranchOptions o;
  o.layers = 6;  // reductions after layers 1 and 3
  o.channels = 8;
  return MultiBranchSpace(o);
}

std::shared_ptr<MacroNetwork> macro_net(const enas::MacroArch& a, DType dtype, Generator& gen) {
  auto net = std::dynamic_pointer_cast<MacroNetwork>(
      mb_space().build(MultiBranchSpace::point(a), kShape, gen));
  make_trained(*net, dtype, kShape.channels, gen);
  return net;
}

enas::MacroArch macro_arch(const std::string& json) {
  return enas::MacroArch::from_json(json);
}

const char* kMacroA = R"({"layers": [
    {"op": "conv_3x3", "skips": []}, {"op": "sep_conv_3x3", "skips": [0]},
    {"op": "max_pool_3x3", "skips": [0, 0]}, {"op": "conv_3x3", "skips": [0, 1, 0]},
    {"op": "avg_pool_3x3", "skips": [0, 0, 0, 0]},
    {"op": "sep_conv_3x3", "skips": [0, 0, 1, 0, 1]}]})";
const char* kMacroB = R"({"layers": [
    {"op": "sep_conv_5x5", "skips": []}, {"op": "conv_3x3", "skips": [0]},
    {"op": "conv_5x5", "skips": [1, 0]}, {"op": "sep_conv_3x3", "skips": [1, 1, 0]},
    {"op": "max_pool_3x3", "skips": [0, 0, 0, 1]},
    {"op": "conv_3x3", "skips": [0, 0, 0, 0, 0]}]})";

TEST(MultiBranchMorphism, OffersSkipsOnlyWhereANewReductionHoldsThemAtZero) {
  const MultiBranchSpace space = mb_space();
  const enas::MacroArch a = macro_arch(kMacroA);
  std::vector<std::pair<int64_t, int>> skips;
  int grows = 0;
  for (const Morphism& m : applicable_morphisms(a, space)) {
    if (m.kind == MorphismKind::kAddSkip) skips.emplace_back(m.value, m.layer);
    grows += m.kind == MorphismKind::kGrowKernel;
  }
  EXPECT_EQ(grows, 4);  // layers 0, 1, 3 and 5
  // 0 -> 2, 0 -> 3: past the reduction after layer 1, which layer 0's output crosses for the
  // first time. 0 -> 4, 1 -> 4, 0 -> 5 and 1 -> 5: past the one after layer 3, which no layer
  // reads 0 or 1 through yet (2 -> 5 is there already, so 2 -> 4 would share its reduction).
  // Never 0 -> 1 or 2 -> 3 (no reduction between) nor 1 -> 2 or 3 -> 4 (the layer's own).
  EXPECT_EQ(skips,
            (std::vector<std::pair<int64_t, int>>{{0, 2}, {0, 3}, {0, 4}, {1, 4}, {0, 5}, {1, 5}}));
  expect_error(
      [&] {
        (void)morph_arch(a, space, {MorphismKind::kAddSkip, 4, 2});
      },
      {"add_skip 2->4", "not applicable"});
}

TEST(MultiBranchMorphism, EveryKindKeepsTheFunctionAndTrainingContinues) {
  const MultiBranchSpace space = mb_space();
  Generator gen(21);
  for (DType dtype : {DType::Float64, DType::Float32}) {
    std::map<MorphismKind, double> worst;
    std::map<MorphismKind, int> count;
    for (const char* json : {kMacroA, kMacroB}) {
      const enas::MacroArch a = macro_arch(json);
      auto parent = macro_net(a, dtype, gen);
      for (const Morphism& m : applicable_morphisms(a, space)) {
        const MorphedMacro child = apply_morphism(*parent, space, m, gen);
        EXPECT_NO_THROW(space.validate(MultiBranchSpace::point(child.arch)));
        EXPECT_EQ(child.network->num_parameters(),
                  space.count_parameters(MultiBranchSpace::point(child.arch), kShape));
        const double d = max_diff(*parent, *child.network, dtype, gen);
        EXPECT_LE(d, tolerance(dtype)) << to_text(m);
        worst[m.kind] = std::max(worst[m.kind], d);
        ++count[m.kind];
      }
    }
    for (MorphismKind k : {MorphismKind::kAddSkip, MorphismKind::kGrowKernel}) {
      EXPECT_GE(count[k], 3);
      std::printf("multibranch %s %s: %d morphisms, max |diff| %.3g\n", dtype_name(dtype).data(),
                  morphism_kind_name(k).data(), count[k], worst[k]);
    }
  }
  // The zeroed reduction's gamma gets a gradient, so the new skip learns to contribute.
  const enas::MacroArch a = macro_arch(kMacroA);
  auto parent = macro_net(a, DType::Float64, gen);
  const MorphedMacro child = apply_morphism(*parent, space, {MorphismKind::kAddSkip, 5, 0}, gen);
  child.network->train();
  child.network->zero_grad();
  const auto f64 = TensorOptions{}.with_dtype(DType::Float64);
  cross_entropy(child.network->forward(uniform({4, 8, 8, 2}, -1, 1, gen, f64)),
                randint({4}, 0, kShape.classes, gen))
      .backward();
  double g = 0;
  for (const auto& [name, p] : child.network->named_parameters())
    if (name == "pool_at_3_from_0.bn.weight")
      for (double v : p.grad().to_vector<double>()) g = std::max(g, std::abs(v));
  EXPECT_GT(g, 0.0);
}

TEST(MultiBranchMorphism, ChainsOfMorphismsKeepTheFunction) {
  const MultiBranchSpace space = mb_space();
  Generator gen(22);
  for (DType dtype : {DType::Float64, DType::Float32}) {
    auto parent = macro_net(macro_arch(kMacroA), dtype, gen);
    std::shared_ptr<MacroNetwork> net = parent;
    for (int step = 0; step < 5 && !applicable_morphisms(net->config().arch, space).empty(); ++step)
      net = apply_random_morphism(*net, space, gen).network;
    EXPECT_LE(max_diff(*parent, *net, dtype, gen), tolerance(dtype));
  }
}

}  // namespace
}  // namespace fusenas::nas::space
