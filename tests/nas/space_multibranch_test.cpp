// The multibranch space and its standalone macro network: the space contract over many samples
// and mutations, one decision per mutation, hostile points, parameter counts worked by hand, and
// the network computing what ENAS's shared macro child computes for the same architecture.
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/space/macro_network.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/space_contract.h"
#include "support/expect.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using Json = nlohmann::json;

int changed_decisions(const enas::MacroArch& a, const enas::MacroArch& b) {
  int changed = 0;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    changed += a.layers[l].op != b.layers[l].op;
    for (size_t j = 0; j < l; ++j) changed += a.layers[l].skips[j] != b.layers[l].skips[j];
  }
  return changed;
}

TEST(MultiBranchSpace, SamplesKeepTheContract) {
  const MultiBranchSpace space;
  Generator gen(1);
  int skips = 0;
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    check_point_contract(space, p);
    const enas::MacroArch a = space.arch(p);
    EXPECT_EQ(a.num_layers(), 6);
    EXPECT_EQ(MultiBranchSpace::point(a), p);
    EXPECT_EQ(enas::MacroArch::from_json(p.dump()), a);
    skips += a.num_skips();
  }
  EXPECT_NEAR(skips / 15000.0, 0.5, 0.03);  // each of the 15 bits is a fair coin
}

TEST(MultiBranchSpace, MutationChainsChangeExactlyOneDecisionAndStayValid) {
  for (int layers : {6, 1, 2}) {
    const MultiBranchSpace space(MultiBranchOptions{layers, 16});
    Generator gen(2);
    int op_changes = 0, mutations = 0;
    for (int chain = 0; chain < 1000; ++chain) {
      Point p = space.sample(gen);
      for (int step = 0; step < 5; ++step) {
        const Point child = space.mutate(p, gen);
        check_mutation_contract(space, p, child);
        const enas::MacroArch a = space.arch(p), b = space.arch(child);
        EXPECT_EQ(changed_decisions(a, b), 1);
        for (size_t l = 0; l < a.layers.size(); ++l) op_changes += a.layers[l].op != b.layers[l].op;
        ++mutations;
        p = child;
      }
    }
    // Half the mutations change an op, except with one layer (no skips).
    EXPECT_NEAR(op_changes / static_cast<double>(mutations), layers == 1 ? 1.0 : 0.5, 0.03);
  }
}

TEST(MultiBranchSpace, EncodingAndText) {
  const MultiBranchSpace space(MultiBranchOptions{3, 16});
  EXPECT_EQ(MultiBranchSpace().encoding_size(), 6 * 6 + 15);
  ASSERT_EQ(space.encoding_size(), 3 * 6 + 3);
  const Point p = Json::parse(R"({"layers": [{"op": "conv_5x5", "skips": []},
      {"op": "avg_pool_3x3", "skips": [1]}, {"op": "conv_3x3", "skips": [false, true]}]})");
  check_point_contract(space, p);
  // conv_5x5 is op 1, avg_pool_3x3 op 5, conv_3x3 op 0; then the bits 1 | 0 1.
  EXPECT_EQ(space.encode(p), (std::vector<float>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,  //
                                                 1, 0, 0, 0, 0, 0, 1, 0, 1}));
  EXPECT_EQ(space.to_text(p), "conv_5x5 | avg_pool_3x3 <- 0 | conv_3x3 <- 1");
}

TEST(MultiBranchSpace, RefusesHostilePointsNamingTheFieldAndTheRule) {
  const MultiBranchSpace space(MultiBranchOptions{3, 16});
  const Point good = Json::parse(R"({"layers": [{"op": "conv_5x5", "skips": []},
      {"op": "avg_pool_3x3", "skips": [1]}, {"op": "conv_3x3", "skips": [0, 1]}]})");
  const auto with = [&](const std::string& pointer, const Json& value) {
    Point p = good;
    p[Json::json_pointer(pointer)] = value;
    return p;
  };
  Point four = good;
  four["layers"].push_back(good["layers"][0]);
  const std::vector<std::pair<Point, std::vector<std::string>>> cases = {
      {Json(nullptr), {"multibranch: the point must be an object, got null"}},
      {with("/arch", 1), {"unknown key \"arch\""}},
      {four, {"multibranch: layers must have exactly 3 entries, got 4"}},
      {with("/layers/1", Json::array()), {"layers[1] must be an object, got an array of 0"}},
      {with("/layers/1/op", "identity"), {"layers[1].op must be one of conv_3x3, conv_5x5"}},
      {with("/layers/1/op", 3), {"layers[1].op must be a string, got 3"}},
      {with("/layers/1/skip", 3), {"layers[1] has the unknown key \"skip\""}},
      {with("/layers/2/skips", Json::array({1})),
       {"layers[2].skips must be an array of 2 entries (one per earlier layer), got an array of "
        "1"}},
      {with("/layers/0/skips", nullptr), {"layers[0].skips must be an array of 0 entries"}},
      {with("/layers/2/skips/1", 2), {"layers[2].skips[1] must be 0 or 1, got 2"}},
      {with("/layers/2/skips/1", "1"), {"layers[2].skips[1] must be 0 or 1, got \"1\""}},
      {with("/layers/2/skips/1", 1.0), {"layers[2].skips[1] must be 0 or 1, got 1.0"}},
  };
  for (const auto& [p, parts] : cases) {
    SCOPED_TRACE(p.dump());
    expect_error([&] { space.validate(p); }, parts);
  }
  // Booleans are accepted, as MacroArch's own JSON reader does.
  EXPECT_NO_THROW(space.validate(with("/layers/2/skips/1", true)));
  expect_error(
      [] {
        MultiBranchOptions::from_json({{"channels", 15}});
      },
      {"multibranch options: channels must be even"});
  expect_error(
      [] {
        MultiBranchOptions::from_json({{"layers", 0}});
      },
      {"layers must be an integer in [1, 64], got 0"});
}

// 3 layers of 4 channels (reductions after layers 0 and 1), 1 input channel, 10 classes:
//   stem: conv 1 -> 4 3x3 = 36, BN 8                                              =  44
//   layer 0 conv_3x3: conv 4 -> 4 3x3 = 144, BN 8                                 = 152
//   after layer 0: its output reduced, FactorizedReduce(4, 4): two 1x1 4 -> 2, BN  =  24
//   layer 1 max_pool_3x3: the pool's BN 8, the skip sum's BN 8                     =  16
//   after layer 1: its output and layer 0's (layer 2 reads it) reduced: 2 x 24     =  48
//   layer 2 sep_conv_3x3: twice (depthwise 36 + 1x1 16 + BN 8), skip BN 8          = 128
//   classifier: 4 x 10 + 10                                                        =  50
TEST(MultiBranchSpace, ParameterCountsWorkedByHand) {
  const MultiBranchSpace space(MultiBranchOptions{3, 4});
  Point p = Json::parse(R"({"layers": [{"op": "conv_3x3", "skips": []},
      {"op": "max_pool_3x3", "skips": [1]}, {"op": "sep_conv_3x3", "skips": [1, 0]}]})");
  const ImageShape shape{1, 8, 10};
  Generator gen(3);
  const int64_t expected = 44 + 152 + 24 + 16 + 48 + 128 + 50;
  EXPECT_EQ(space.count_parameters(p, shape), expected);
  EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), expected);
  // No later layer reads layer 0 after the second reduction: one FactorizedReduce less.
  p["layers"][2]["skips"][0] = 0;
  EXPECT_EQ(space.count_parameters(p, shape), expected - 24);
  EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), expected - 24);

  // Affine-free BNs (the supernet's) hold nothing; the stem's stays affine. Now: stem 44, conv
  // 144, one FactorizedReduce (4 x 4) after each reduction, the pool nothing, sep_conv
  // 2 x (36 + 16), classifier 50.
  MacroNetworkConfig c;
  c.arch = space.arch(p);
  c.channels = 4;
  c.in_channels = 1;
  c.affine = false;
  EXPECT_EQ(macro_parameter_count(c), 44 + 144 + 16 + 0 + 16 + 2 * (36 + 16) + 50);
  EXPECT_EQ(MacroNetwork(c, gen).num_parameters(), macro_parameter_count(c));
}

TEST(MultiBranchSpace, CountedParametersEqualBuiltNetworksOverSamples) {
  for (const MultiBranchOptions& o : {MultiBranchOptions{}, MultiBranchOptions{12, 8}}) {
    const MultiBranchSpace space(o);
    Generator gen(4);
    for (int i = 0; i < 20; ++i) {
      const Point p = space.sample(gen);
      for (const ImageShape& shape : {ImageShape{1, 28, 10}, ImageShape{3, 32, 100}})
        EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), space.count_parameters(p, shape));
    }
  }
}

TEST(MultiBranchSpace, ForwardGivesFiniteLogits) {
  const MultiBranchSpace space(MultiBranchOptions{6, 4});
  Generator gen(5);
  for (int i = 0; i < 5; ++i) {
    auto net = space.build(space.sample(gen), {1, 8, 10}, gen);
    const Tensor logits = net->forward(uniform({2, 8, 8, 1}, -1, 1, gen));
    ASSERT_EQ(logits.shape(), (Shape{2, 10}));
    for (float v : logits.to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  }
  expect_error(
      [&] {
        (void)space.build(space.sample(gen), {1, 6, 10}, gen);
      },
      {"6 layers reduce 2 times, so the image size must be a multiple of 4", "got 6"});
}

// With affine-free BNs the standalone network holds a subset of the supernet's weights under the
// same names (less the op index inside each layer): loaded from the supernet, it must compute
// exactly what the supernet computes for that architecture.
TEST(MacroNetwork, ComputesWhatTheSharedChildComputes) {
  enas::MacroSpace shared;
  shared.layers = 6;
  shared.channels = 4;
  shared.in_channels = 1;
  shared.num_classes = 10;
  Generator gen(6);
  enas::MacroSupernet supernet(shared, gen);
  const MultiBranchSpace space(MultiBranchOptions{6, 4});
  for (int i = 0; i < 10; ++i) {
    MacroNetworkConfig c;
    c.arch = space.arch(space.sample(gen));
    c.channels = 4;
    c.in_channels = 1;
    c.affine = false;
    MacroNetwork net(c, gen);
    const nn::StateDict from = supernet.state_dict();
    nn::StateDict weights;
    for (const auto& [name, tensor] : net.state_dict()) {
      std::string source = name;
      const size_t dot = name.find('.');
      if (name.rfind("layer_", 0) == 0 && name.find('_', 6) > dot) {
        const int l = std::stoi(name.substr(6, dot - 6));
        source = name.substr(0, dot + 1) +
                 std::to_string(static_cast<int>(c.arch.layers[static_cast<size_t>(l)].op)) +
                 name.substr(dot);
      }
      ASSERT_TRUE(from.count(source)) << name << " -> " << source;
      weights[name] = from.at(source);
    }
    net.load_state_dict(weights);
    const Tensor x = uniform({3, 8, 8, 1}, -1, 1, gen);
    EXPECT_EQ(net.forward(x).to_vector<float>(),
              supernet.forward_sampled(x, c.arch).to_vector<float>())
        << c.arch.to_text();
  }
}

}  // namespace
}  // namespace fusenas::nas::space
