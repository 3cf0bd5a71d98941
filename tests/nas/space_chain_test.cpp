// The chain space: the space contract over many samples and mutations, one decision per
// mutation, the buildability rules and their refusals, and parameter counts worked by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/factory.h"
#include "fusenas/nas/space/chain_network.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/model_scale.h"
#include "fusenas/nas/space/space_contract.h"
#include "support/expect.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using Json = nlohmann::json;

// Decisions changed between two architectures: the depth, or per layer present in both the type
// and each field both types have (a field that appears or goes with a type change belongs to the
// type decision).
int changed_decisions(const ChainArch& a, const ChainArch& b) {
  if (a.layers.size() != b.layers.size()) {
    const size_t common = std::min(a.layers.size(), b.layers.size());
    for (size_t i = 0; i < common; ++i)
      if (!(a.layers[i] == b.layers[i])) return 2;  // the depth and something else
    return std::max(a.layers.size(), b.layers.size()) - common == 1 ? 1 : 2;
  }
  int changed = 0;
  for (size_t i = 0; i < a.layers.size(); ++i) {
    const ChainLayer &x = a.layers[i], &y = b.layers[i];
    changed += x.type != y.type;
    if (has_kernel(x.type) && has_kernel(y.type)) {
      changed += x.kernel != y.kernel;
      changed += x.stride != y.stride;
    }
    if (has_filters(x.type) && has_filters(y.type)) changed += x.filters != y.filters;
  }
  return changed;
}

void expect_rules(const ChainArch& a, const ChainOptions& o) {
  EXPECT_GE(a.layers.size(), 1u);
  EXPECT_LE(a.layers.size(), static_cast<size_t>(o.max_layers));
  EXPECT_LE(a.reductions(), o.max_reductions);
  for (const ChainLayer& l : a.layers) {
    if (l.type == ChainLayerType::kIdentity) {
      EXPECT_EQ(l.stride, 1);
    }
  }
}

TEST(ChainSpace, SamplesKeepTheContractAndTheRules) {
  const ChainSpace space;
  Generator gen(1);
  std::vector<int> depths(9, 0), types(kNumChainLayerTypes, 0);
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    check_point_contract(space, p);
    const ChainArch a = space.arch(p);
    expect_rules(a, space.options());
    ++depths[a.layers.size()];
    for (const auto& l : a.layers) ++types[static_cast<int>(l.type)];
    EXPECT_EQ(to_json(a), p);
  }
  for (int d = 1; d <= 8; ++d) EXPECT_GT(depths[static_cast<size_t>(d)], 60) << "depth " << d;
  for (int n : types) EXPECT_GT(n, 500);
}

TEST(ChainSpace, MutationChainsChangeExactlyOneDecisionAndStayValid) {
  ChainOptions tight;
  tight.max_layers = 3;
  tight.max_reductions = 1;
  tight.kernels = {3};
  tight.filters = {8};
  for (const auto& options : {ChainOptions{}, tight}) {
    const ChainSpace space(options);
    Generator gen(2);
    for (int chain = 0; chain < 1000; ++chain) {
      Point p = space.sample(gen);
      for (int step = 0; step < 5; ++step) {
        const Point child = space.mutate(p, gen);
        check_mutation_contract(space, p, child);
        expect_rules(space.arch(child), options);
        EXPECT_EQ(changed_decisions(space.arch(p), space.arch(child)), 1)
            << space.to_text(p) << " -> " << space.to_text(child);
        p = child;
      }
    }
  }
}

TEST(ChainSpace, JsonFormAndText) {
  const ChainSpace space;
  const Point p = Json::parse(R"({"layers": [
      {"type": "conv", "kernel": 3, "filters": 32, "stride": 2},
      {"type": "max_pool", "kernel": 5, "stride": 1},
      {"type": "sep_conv", "kernel": 5, "filters": 64, "stride": 1},
      {"type": "identity"}]})");
  check_point_contract(space, p);
  EXPECT_EQ(to_json(space.arch(p)), p);
  EXPECT_EQ(space.to_text(p), "conv3x3x32/2 max_pool5x5 sep_conv5x5x64 identity");
  // Per slot: present, 5 types, 2 kernels, 3 filter counts, stride 2; then 4 summaries.
  EXPECT_EQ(space.encoding_size(), 8 * 12 + 4);
  const auto v = space.encode(p);
  EXPECT_EQ(std::vector<float>(v.begin(), v.begin() + 24),
            (std::vector<float>{1, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,  //
                                1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(std::vector<float>(v.begin() + 36, v.begin() + 48),
            (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  for (size_t i = 48; i < 96; ++i) EXPECT_EQ(v[i], 0.0f);
  // 4 of 8 layers; 2 of them convs; 1 of 3 reductions; widths (32 + 64) / 64 over 8 slots.
  EXPECT_EQ(std::vector<float>(v.begin() + 96, v.end()),
            (std::vector<float>{0.5f, 0.25f, 1.0f / 3.0f, 1.5f / 8.0f}));
}

TEST(ChainSpace, RefusesHostilePointsNamingTheFieldAndTheRule) {
  const ChainSpace space;
  const Point good = Json::parse(R"({"layers": [
      {"type": "conv", "kernel": 3, "filters": 32, "stride": 2},
      {"type": "avg_pool", "kernel": 3, "stride": 2},
      {"type": "identity"}]})");
  const auto with = [&](const std::string& pointer, const Json& value) {
    Point p = good;
    p[Json::json_pointer(pointer)] = value;
    return p;
  };
  const auto without = [&](size_t layer, const char* key) {
    Point p = good;
    p["layers"][layer].erase(key);
    return p;
  };
  Point nine = good;
  for (int i = 0; i < 6; ++i) nine["layers"].push_back(good["layers"][2]);
  Point four_strided = good;
  four_strided["layers"][2] = good["layers"][0];
  four_strided["layers"].push_back(good["layers"][1]);
  const std::vector<std::pair<Point, std::vector<std::string>>> cases = {
      {Json("conv"), {"chain: the point must be an object, got \"conv\""}},
      {Json::object(), {"chain: the point is missing the key 'layers'"}},
      {with("/depth", 3), {"unknown key \"depth\""}},
      {with("/layers", Json::array()), {"chain: layers must have 1 to 8 entries, got 0"}},
      {nine, {"layers must have 1 to 8 entries, got 9"}},
      {with("/layers/1", 5), {"layers[1] must be an object, got 5"}},
      {with("/layers/1/type", "pool"), {"layers[1].type must be one of conv, sep_conv, max_pool"}},
      {with("/layers/1/type", 2), {"layers[1].type must be a string, got 2"}},
      {without(0, "kernel"), {"layers[0] (conv) is missing the key 'kernel'"}},
      {without(0, "filters"), {"layers[0] (conv) is missing the key 'filters'"}},
      {with("/layers/1/filters", 32),
       {"layers[1] (avg_pool) has the key 'filters'; avg_pool layers take only type, kernel and "
        "stride"}},
      {with("/layers/2/stride", 1),
       {"layers[2] (identity) has the key 'stride'", "take only type"}},
      {with("/layers/2/kernel", 3), {"layers[2] (identity) has the key 'kernel'"}},
      {with("/layers/0/kernel", 7), {"layers[0].kernel must be one of 3, 5, got 7"}},
      {with("/layers/0/kernel", 3.0), {"layers[0].kernel must be one of 3, 5, got 3.0"}},
      {with("/layers/0/filters", 48), {"layers[0].filters must be one of 16, 32, 64, got 48"}},
      {with("/layers/0/filters", "32"), {"layers[0].filters must be one of", "got \"32\""}},
      {with("/layers/0/stride", 3), {"layers[0].stride must be one of 1, 2, got 3"}},
      {with("/layers/0/stride", true), {"layers[0].stride must be one of 1, 2, got true"}},
      {with("/layers/0/stride", -1), {"layers[0].stride must be one of 1, 2, got -1"}},
      {four_strided, {"chain: layers have 4 stride-2 layers; at most 3 are allowed"}},
  };
  for (const auto& [p, parts] : cases) {
    SCOPED_TRACE(p.dump());
    expect_error([&] { space.validate(p); }, parts);
    expect_error([&] { (void)space.count_parameters(p, {}); }, parts);
  }
}

TEST(ChainSpace, OptionsAreCheckedAndRoundTrip) {
  ChainOptions o;
  o.max_layers = 5;
  o.filters = {8, 24};
  o.kernels = {1, 3, 7};
  o.max_reductions = 2;
  o.stem_channels = 12;
  EXPECT_EQ(ChainOptions::from_json(o.to_json()).to_json(), o.to_json());
  expect_error(
      [] {
        ChainOptions::from_json({{"kernels", {3, 4}}});
      },
      {"chain options: kernels[1] must be odd, got 4"});
  expect_error(
      [] {
        ChainOptions::from_json({{"filters", {16, 16}}});
      },
      {"filters[1] = 16 is listed twice"});
  expect_error(
      [] {
        ChainOptions::from_json({{"max_layers", 2}, {"max_reductions", 3}});
      },
      {"max_reductions must lie in [0, max_layers = 2], got 3"});
  expect_error(
      [] {
        ChainOptions::from_json({{"max_layers", 65}});
      },
      {"max_layers must be an integer in [1, 64], got 65"});
  expect_error([] { ChainOptions::from_json({{"stem", 16}}); }, {"unknown key \"stem\""});
}

// Stem 16, 1 input channel, 10 classes:
//   stem: conv 1 -> 16 3x3 = 144, BN 32                                      =  176
//   conv3x3x16/2 on 16 channels: 16 x 16 x 9 = 2304, BN 32                   = 2336
//   max_pool3x3: nothing                                                     =    0
//   sep_conv5x5x32 on 16: depthwise 16 x 25 = 400, 1x1 16 x 32 = 512, BN 64  =  976
//   identity: nothing                                                        =    0
//   classifier: 32 x 10 + 10                                                 =  330
TEST(ChainSpace, ParameterCountsWorkedByHand) {
  const ChainSpace space;
  const Point p = Json::parse(R"({"layers": [
      {"type": "conv", "kernel": 3, "filters": 16, "stride": 2},
      {"type": "max_pool", "kernel": 3, "stride": 1},
      {"type": "sep_conv", "kernel": 5, "filters": 32, "stride": 1},
      {"type": "identity"}]})");
  const ImageShape shape{1, 28, 10};
  Generator gen(3);
  EXPECT_EQ(space.count_parameters(p, shape), 176 + 2336 + 0 + 976 + 0 + 330);
  EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), 176 + 2336 + 0 + 976 + 0 + 330);

  // A stem of 8 on 3 channels and one pool: 3 x 8 x 9 + 16 = 232, classifier 8 x 100 + 100.
  ChainOptions o;
  o.stem_channels = 8;
  const ChainSpace small(o);
  const Point pool = Json::parse(R"({"layers": [{"type": "avg_pool", "kernel": 5, "stride": 2}]})");
  EXPECT_EQ(small.count_parameters(pool, {3, 32, 100}), 232 + 900);
  EXPECT_EQ(small.build(pool, {3, 32, 100}, gen)->num_parameters(), 232 + 900);
}

// The same chain at half width (a downscaled model): stem 8, filters 8 and 16, worked by hand:
//   stem: conv 1 -> 8 3x3 = 72, BN 16                                        =   88
//   conv3x3x8/2 on 8: 8 x 8 x 9 = 576, BN 16                                 =  592
//   sep_conv5x5x16 on 8: depthwise 8 x 25 = 200, 1x1 8 x 16 = 128, BN 32     =  360
//   classifier: 16 x 10 + 10                                                 =  170
TEST(ChainSpace, AHalfWidthModelHasTheHandCountedParameters) {
  const Point p = Json::parse(R"({"layers": [
      {"type": "conv", "kernel": 3, "filters": 16, "stride": 2},
      {"type": "max_pool", "kernel": 3, "stride": 1},
      {"type": "sep_conv", "kernel": 5, "filters": 32, "stride": 1},
      {"type": "identity"}]})");
  const ScaledModel half = scale_model("chain", Json::object(), p, 0.5);
  EXPECT_EQ(half.point["layers"][0]["filters"], 8);
  EXPECT_EQ(half.point["layers"][2]["filters"], 16);
  Generator gen(3);
  EXPECT_EQ(half.space->build(half.point, {1, 28, 10}, gen)->num_parameters(),
            88 + 592 + 360 + 170);
  // Factor 1 is the model itself; a factor outside (0, 1] is refused.
  EXPECT_EQ(scale_model("chain", Json::object(), p, 1).point, p);
  expect_error([&] { scale_model("chain", Json::object(), p, 1.5); }, {"(0, 1]"});
  // Multi-branch and DARTS widths stay even for FactorizedReduce: 16 x 0.3 = 4.8 -> 4.
  const auto mb = make_arch_space("multibranch");
  const ScaledModel narrow = scale_model("multibranch", Json::object(), mb->sample(gen), 0.3);
  EXPECT_EQ(narrow.space->count_parameters(narrow.point, {1, 28, 10}),
            make_arch_space("multibranch", {{"channels", 4}})
                ->count_parameters(narrow.point, {1, 28, 10}));
}

TEST(ChainSpace, CountedParametersEqualBuiltNetworksOverSamples) {
  const ChainSpace space;
  Generator gen(4);
  for (int i = 0; i < 30; ++i) {
    const Point p = space.sample(gen);
    for (const ImageShape& shape : {ImageShape{1, 28, 10}, ImageShape{3, 32, 100}})
      EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), space.count_parameters(p, shape));
  }
}

TEST(ChainSpace, ForwardGivesFiniteLogitsDownToOnePixel) {
  ChainOptions o;
  o.max_reductions = 8;  // every layer may halve: 12 -> 6 -> 3 -> 2 -> 1 -> 1 ...
  o.filters = {4, 8};
  const ChainSpace space(o);
  Generator gen(5);
  for (int i = 0; i < 20; ++i) {
    const Point p = space.sample(gen);
    auto net = space.build(p, {1, 12, 10}, gen);
    const Tensor logits = net->forward(uniform({2, 12, 12, 1}, -1, 1, gen));
    ASSERT_EQ(logits.shape(), (Shape{2, 10})) << space.to_text(p);
    for (float v : logits.to_vector<float>()) EXPECT_TRUE(std::isfinite(v)) << space.to_text(p);
  }
  // Eight stride-2 pools of kernel 5 on a 2-pixel image: every window still holds a pixel.
  Point deep = Json::parse(R"({"layers": []})");
  for (int i = 0; i < 8; ++i)
    deep["layers"].push_back(
        {{"type", i % 2 ? "max_pool" : "avg_pool"}, {"kernel", 5}, {"stride", 2}});
  auto net = space.build(deep, {1, 2, 10}, gen);
  for (float v : net->forward(uniform({2, 2, 2, 1}, -1, 1, gen)).to_vector<float>())
    EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace fusenas::nas::space
