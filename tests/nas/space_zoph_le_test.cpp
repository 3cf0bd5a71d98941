// The zoph-le space and its network: the space contract over many samples and mutations, one
// decision per mutation, hostile points and options, parameter counts worked by hand, the wiring
// (which outputs reach the classifier, zero-padded concats with strides), gradients against
// finite differences, and a tiny nas_search and nas_train of it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/model_scale.h"
#include "fusenas/nas/space/space_contract.h"
#include "fusenas/nas/space/zoph_le_network.h"
#include "fusenas/nas/space/zoph_le_space.h"
#include "fusenas/nas/train/trainer.h"
#include "support/expect.h"
#include "support/gradcheck.h"
#include "support/run_fixtures.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using fusenas::testing::message_of;
using Json = nlohmann::json;

ZophLeOptions options(int layers, std::vector<int64_t> strides = {1}) {
  ZophLeOptions o;
  o.layers = layers;
  o.strides = std::move(strides);
  return o;
}

int changed_decisions(const ZophLeArch& a, const ZophLeArch& b) {
  int changed = 0;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    const ZophLeLayer &x = a.layers[l], &y = b.layers[l];
    changed += (x.height != y.height) + (x.width != y.width) + (x.filters != y.filters) +
               (x.stride != y.stride);
    for (size_t j = 0; j < l; ++j) changed += x.skips[j] != y.skips[j];
  }
  return changed;
}

// Layer 1 reads layer 0, layer 2 reads layer 1 (docs/formats.md's example).
const Json kPoint = Json::parse(R"({"layers": [
    {"height": 3, "width": 5, "filters": 36, "stride": 1, "skips": []},
    {"height": 1, "width": 7, "filters": 24, "stride": 1, "skips": [1]},
    {"height": 5, "width": 3, "filters": 64, "stride": 1, "skips": [0, 1]}]})");

TEST(ZophLeSpace, SamplesKeepTheContractAndAreUniform) {
  const ZophLeSpace space(options(6, {1, 2}));
  Generator gen(1);
  int skips = 0, stride2 = 0;
  std::map<int64_t, int> heights;
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    check_point_contract(space, p);
    const ZophLeArch a = space.arch(p);
    ASSERT_EQ(a.layers.size(), 6u);
    EXPECT_EQ(ZophLeSpace::point(a), p);
    for (const ZophLeLayer& l : a.layers) {
      skips += static_cast<int>(std::count(l.skips.begin(), l.skips.end(), true));
      stride2 += l.stride == 2;
      ++heights[l.height];
    }
  }
  EXPECT_NEAR(skips / 15000.0, 0.5, 0.03);  // each of the 15 bits is a fair coin
  EXPECT_NEAR(stride2 / 6000.0, 0.5, 0.03);
  ASSERT_EQ(heights.size(), 4u);
  for (const auto& [h, n] : heights) EXPECT_NEAR(n / 6000.0, 0.25, 0.03) << h;
}

TEST(ZophLeSpace, MutationChainsChangeExactlyOneDecisionAndStayValid) {
  ZophLeOptions skips_only = options(4);
  skips_only.heights = {3};
  skips_only.widths = {3};
  skips_only.filters = {8};
  // (options, expected share of mutations that change a layer's height/width/filters/stride)
  const std::vector<std::pair<ZophLeOptions, double>> cases = {
      {options(6), 0.5}, {options(6, {1, 2}), 0.5}, {options(1, {1, 2}), 1.0}, {skips_only, 0.0}};
  for (const auto& [o, share] : cases) {
    SCOPED_TRACE(o.to_json().dump());
    const ZophLeSpace space(o);
    Generator gen(2);
    int layer_changes = 0, mutations = 0;
    for (int chain = 0; chain < 500; ++chain) {
      Point p = space.sample(gen);
      for (int step = 0; step < 5; ++step) {
        const Point child = space.mutate(p, gen);
        check_mutation_contract(space, p, child);
        const ZophLeArch a = space.arch(p), b = space.arch(child);
        ASSERT_EQ(changed_decisions(a, b), 1);
        for (size_t l = 0; l < a.layers.size(); ++l)
          layer_changes += a.layers[l].skips == b.layers[l].skips && !(a.layers[l] == b.layers[l]);
        ++mutations;
        p = child;
      }
    }
    EXPECT_NEAR(layer_changes / static_cast<double>(mutations), share, 0.03);
  }
}

TEST(ZophLeSpace, EncodingAndText) {
  EXPECT_EQ(ZophLeSpace().encoding_size(), 6 * (4 + 4 + 4) + 15);
  // A stride list of two values adds its one-hot.
  const ZophLeSpace space(options(3, {1, 2}));
  ASSERT_EQ(space.encoding_size(), 3 * (4 + 4 + 4 + 2) + 3);
  Point p = kPoint;
  p["layers"][2]["stride"] = 2;
  p["layers"][1]["skips"][0] = false;
  check_point_contract(space, p);
  // Per layer heights 1 3 5 7 | widths 1 3 5 7 | filters 24 36 48 64 | strides 1 2, then the bits.
  EXPECT_EQ(space.encode(p), (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0,  //
                                                 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0,  //
                                                 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1,  //
                                                 0, 0, 1}));
  EXPECT_EQ(space.to_text(p), "3x5x36 | 1x7x24 | 5x3x64/2 <- 1");
  EXPECT_EQ(ZophLeSpace(options(3)).to_text(kPoint), "3x5x36 | 1x7x24 <- 0 | 5x3x64 <- 1");
  for (float v : ZophLeSpace(options(3)).encode(kPoint)) EXPECT_TRUE(v == 0 || v == 1);
}

TEST(ZophLeSpace, RefusesHostilePointsNamingTheFieldAndTheRule) {
  const ZophLeSpace space(options(3));
  const auto with = [&](const std::string& pointer, const Json& value) {
    Point p = kPoint;
    p[Json::json_pointer(pointer)] = value;
    return p;
  };
  Point four = kPoint;
  four["layers"].push_back(kPoint["layers"][0]);
  Point no_stride = kPoint;
  no_stride["layers"][1].erase("stride");
  const std::vector<std::pair<Point, std::vector<std::string>>> cases = {
      {Json(nullptr), {"zoph-le: the point must be an object, got null"}},
      {with("/arch", 1), {"zoph-le: the point has the unknown key \"arch\""}},
      {four, {"zoph-le: layers must have exactly 3 entries, got 4"}},
      {with("/layers/1", Json::array()), {"layers[1] must be an object, got an array of 0"}},
      {with("/layers/1/kernel", 3), {"layers[1] has the unknown key \"kernel\""}},
      {no_stride, {"layers[1] is missing the key 'stride'"}},
      {with("/layers/1/height", 4), {"layers[1].height must be one of 1, 3, 5, 7, got 4"}},
      {with("/layers/1/width", 3.0), {"layers[1].width must be one of 1, 3, 5, 7, got 3.0"}},
      {with("/layers/0/filters", 32), {"layers[0].filters must be one of 24, 36, 48, 64, got 32"}},
      {with("/layers/0/filters", "36"), {"layers[0].filters must be one of", "got \"36\""}},
      // Stride 2 is a valid stride, but not one of these options'.
      {with("/layers/2/stride", 2), {"layers[2].stride must be one of 1, got 2"}},
      {with("/layers/2/skips", Json::array({1})),
       {"layers[2].skips must be an array of 2 entries (one per earlier layer), got an array of "
        "1"}},
      {with("/layers/0/skips", Json::array({0})),
       {"layers[0].skips must be an array of 0 entries (one per earlier layer)"}},
      {with("/layers/1/skips", nullptr), {"layers[1].skips must be an array of 1 entries"}},
      {with("/layers/2/skips/1", 2), {"layers[2].skips[1] must be 0 or 1, got 2"}},
      {with("/layers/2/skips/1", "1"), {"layers[2].skips[1] must be 0 or 1, got \"1\""}},
  };
  for (const auto& [p, parts] : cases) {
    SCOPED_TRACE(p.dump());
    expect_error([&] { space.validate(p); }, parts);
  }
  // Booleans are bits too; the canonical point writes 0 and 1.
  const Point booleans = with("/layers/2/skips", Json::array({true, false}));
  EXPECT_NO_THROW(space.validate(booleans));
  EXPECT_EQ(ZophLeSpace::point(space.arch(booleans))["layers"][2]["skips"], Json::array({1, 0}));
}

TEST(ZophLeOptions, StrictJsonAndRules) {
  const ZophLeOptions paper = ZophLeOptions::from_json({{"layers", 15}, {"strides", {1, 2}}});
  EXPECT_EQ(paper.layers, 15);
  EXPECT_EQ(paper.heights, (std::vector<int64_t>{1, 3, 5, 7}));
  EXPECT_EQ(ZophLeOptions::from_json(paper.to_json()).to_json(), paper.to_json());
  EXPECT_EQ(ZophLeOptions().to_json(),
            Json::parse(R"({"layers": 6, "heights": [1, 3, 5, 7], "widths": [1, 3, 5, 7],
                            "filters": [24, 36, 48, 64], "strides": [1]})"));
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array(), "zoph-le options: the object must be an object"},
      {{{"kernels", {3}}}, "zoph-le options: the object has the unknown key \"kernels\""},
      {{{"layers", 0}}, "zoph-le options: layers must be an integer in [1, 64], got 0"},
      {{{"layers", 65}}, "layers must be an integer in [1, 64], got 65"},
      {{{"heights", {1, 4}}}, "zoph-le options: heights[1] must be odd, got 4"},
      {{{"widths", Json::array()}}, "zoph-le options: widths must have 1 to 16 entries, got 0"},
      {{{"widths", {13}}}, "widths[0] must be an integer in [1, 11], got 13"},
      {{{"filters", {24, 24}}}, "zoph-le options: filters[1] = 24 is listed twice"},
      {{{"filters", {0}}}, "filters[0] must be an integer in [1, 4096], got 0"},
      {{{"strides", {1, 3}}}, "strides[1] must be an integer in [1, 2], got 3"},
      {{{"strides", 2}}, "zoph-le options: strides must be an array, got 2"},
      {{{"layers", 1}, {"heights", {3}}, {"widths", {3}}, {"filters", {8}}},
       "leaves a single point"},
  };
  for (const auto& [j, part] : cases) {
    SCOPED_TRACE(j.dump());
    expect_error([&] { ZophLeOptions::from_json(j); }, {part});
  }
  ZophLeOptions bad;
  bad.strides = {2, 2};
  expect_error([&] { (void)ZophLeSpace(bad); },
               {"zoph-le options: strides[1] = 2 is listed twice"});
  // The factory knows the space by name and reads its options strictly.
  EXPECT_EQ(make_arch_space("zoph-le")->name(), "zoph-le");
  EXPECT_EQ(make_arch_space("zoph-le", {{"layers", 15}})->encoding_size(), 15 * 12 + 105);
  expect_error(
      [] {
        make_arch_space("zoph-le", {{"channels", 16}});
      },
      {"zoph-le options: the object has the unknown key \"channels\""});
}

// kPoint with layer 2 reading layer 0 only, on a 1-channel 8x8 image, 10 classes:
//   layer 0: 3x5 conv 1 -> 36: 540, BN 72                        =   612
//   layer 1: 1x7 conv 36 -> 24 (reads 0): 6048, BN 48            =  6096
//   layer 2: 5x3 conv 36 -> 64 (reads 0): 34560, BN 128          = 34688
//   no layer reads 1 or 2: classifier (24 + 64) -> 10: 880 + 10  =   890
TEST(ZophLeNetwork, ParametersAndClassifierInputsWorkedByHand) {
  const ZophLeSpace space(options(3));
  Point p = kPoint;
  p["layers"][2]["skips"] = {1, 0};
  const ImageShape shape{1, 8, 10};
  Generator gen(3);
  EXPECT_EQ(space.count_parameters(p, shape), 612 + 6096 + 34688 + 890);
  auto net = std::dynamic_pointer_cast<ZophLeNetwork>(space.build(p, shape, gen));
  ASSERT_TRUE(net);
  EXPECT_EQ(net->num_parameters(), 612 + 6096 + 34688 + 890);
  EXPECT_EQ(net->classified_layers(), (std::vector<size_t>{1, 2}));
  const auto classifier =
      std::dynamic_pointer_cast<nn::Linear>(net->named_children().back().second);
  ASSERT_TRUE(classifier);
  EXPECT_EQ(classifier->in_features(), 24 + 64);

  const Tensor x = uniform({2, 8, 8, 1}, -1, 1, gen);
  const std::vector<Tensor> outs = net->layer_outputs(x);
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].shape(), (Shape{2, 8, 8, 36}));
  EXPECT_EQ(outs[1].shape(), (Shape{2, 8, 8, 24}));
  EXPECT_EQ(outs[2].shape(), (Shape{2, 8, 8, 64}));
  EXPECT_EQ(net->forward(x).shape(), (Shape{2, 10}));

  // Layer 2 reading layer 1 instead (24 channels): only layer 2 is unused.
  EXPECT_EQ(space.count_parameters(kPoint, shape),
            612 + 6096 + (24 * 15 * 64 + 128) + (64 * 10 + 10));
  EXPECT_EQ(space.build(kPoint, shape, gen)->num_parameters(),
            space.count_parameters(kPoint, shape));
  EXPECT_EQ(zoph_le_unused_layers(space.arch(kPoint)), (std::vector<size_t>{2}));
  // Reading both: 36 + 24 channels.
  p["layers"][2]["skips"] = {1, 1};
  EXPECT_EQ(space.count_parameters(p, shape), 612 + 6096 + (60 * 15 * 64 + 128) + (64 * 10 + 10));
  // A layer without chosen inputs reads the image: all layers on the image, all unused.
  p["layers"][1]["skips"] = {0};
  p["layers"][2]["skips"] = {0, 0};
  EXPECT_EQ(space.count_parameters(p, shape),
            612 + (7 * 24 + 48) + (15 * 64 + 128) + ((36 + 24 + 64) * 10 + 10));
}

// Strides: 28 -> 14 (layer 1, stride 2, from the image) -> layer 2 reads 0 (28) and 1 (14): its
// input is 28 x 28 with layer 1's 14 x 14 zero-padded at the bottom and the right; layer 3
// (stride 2) reads 2: 14; an odd 7 halves to 4.
TEST(ZophLeNetwork, StridedMapsArePaddedToTheLargest) {
  const ZophLeSpace space(options(4, {1, 2}));
  const Point p = Json::parse(R"({"layers": [
      {"height": 3, "width": 3, "filters": 24, "stride": 1, "skips": []},
      {"height": 3, "width": 1, "filters": 36, "stride": 2, "skips": [0]},
      {"height": 1, "width": 5, "filters": 48, "stride": 1, "skips": [1, 1]},
      {"height": 7, "width": 7, "filters": 64, "stride": 2, "skips": [0, 0, 1]}]})");
  Generator gen(4);
  for (const int64_t size : {28, 7}) {
    const ImageShape shape{1, size, 10};
    auto net = std::dynamic_pointer_cast<ZophLeNetwork>(space.build(p, shape, gen));
    EXPECT_EQ(net->num_parameters(), space.count_parameters(p, shape));
    EXPECT_EQ(net->classified_layers(), (std::vector<size_t>{3}));
    const std::vector<Tensor> outs = net->layer_outputs(uniform({2, size, size, 1}, -1, 1, gen));
    const int64_t half = (size + 1) / 2;
    EXPECT_EQ(outs[0].shape(), (Shape{2, size, size, 24}));
    EXPECT_EQ(outs[1].shape(), (Shape{2, half, half, 36}));
    EXPECT_EQ(outs[2].shape(), (Shape{2, size, size, 48}));
    EXPECT_EQ(outs[3].shape(), (Shape{2, half, half, 64}));
  }
  // A map of 14 concatenated with a map of 28: 28 x 28, the first map's channels zero outside its
  // 14 x 14 corner, both maps' values where they are, and gradients for both.
  Tensor small = uniform({2, 14, 14, 3}, 1, 2, gen);
  Tensor large = uniform({2, 28, 28, 2}, 1, 2, gen);
  small.set_requires_grad();
  large.set_requires_grad();
  const Tensor both = zoph_le_concat({small, large});
  ASSERT_EQ(both.shape(), (Shape{2, 28, 28, 5}));
  const std::vector<float> s = small.to_vector<float>(), l = large.to_vector<float>(),
                           b = both.to_vector<float>();
  size_t mismatches = 0;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t h = 0; h < 28; ++h)
      for (int64_t w = 0; w < 28; ++w)
        for (int64_t c = 0; c < 5; ++c) {
          const float got = b[static_cast<size_t>(((n * 28 + h) * 28 + w) * 5 + c)];
          const float want = c >= 3 ? l[static_cast<size_t>(((n * 28 + h) * 28 + w) * 2 + c - 3)]
                             : h < 14 && w < 14
                                 ? s[static_cast<size_t>(((n * 14 + h) * 14 + w) * 3 + c)]
                                 : 0.0f;
          mismatches += got != want;
        }
  EXPECT_EQ(mismatches, 0u);
  sum(both).backward();
  EXPECT_EQ(small.grad().shape(), small.shape());
  EXPECT_EQ(large.grad().shape(), large.shape());
  // A single map passes through unchanged.
  EXPECT_EQ(zoph_le_concat({large}).to_vector<float>(), l);
}

TEST(ZophLeNetwork, CountedParametersEqualBuiltNetworksOverSamples) {
  for (const ZophLeOptions& o : {options(6), options(6, {1, 2}), options(15, {1, 2})}) {
    const ZophLeSpace space(o);
    Generator gen(5);
    for (int i = 0; i < 10; ++i) {
      const Point p = space.sample(gen);
      for (const ImageShape& shape : {ImageShape{1, 28, 10}, ImageShape{3, 32, 100}})
        EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), space.count_parameters(p, shape));
    }
  }
}

TEST(ZophLeNetwork, ForwardGivesFiniteLogits) {
  ZophLeOptions o = options(5, {1, 2});
  o.filters = {2, 4};
  const ZophLeSpace space(o);
  Generator gen(6);
  for (int i = 0; i < 5; ++i) {
    auto net = space.build(space.sample(gen), {3, 9, 10}, gen);
    const Tensor logits = net->forward(uniform({2, 9, 9, 3}, -1, 1, gen));
    ASSERT_EQ(logits.shape(), (Shape{2, 10}));
    for (float v : logits.to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  }
}

// The whole network in float64 (convs of both strides, padded concats, BN with batch statistics,
// two pooled outputs) against central differences, for the weights and the input.
TEST(ZophLeNetwork, GradientsMatchFiniteDifferences) {
  ZophLeArch a;
  a.layers = {{3, 1, 2, 1, {}},
              {1, 3, 3, 2, {true}},
              {3, 3, 2, 1, {true, true}},
              {1, 1, 2, 2, {true, false, false}}};
  Generator gen(7);
  ZophLeNetwork net(a, {2, 5, 3}, gen);
  net.to(DType::Float64);
  ASSERT_EQ(net.classified_layers(), (std::vector<size_t>{2, 3}));
  std::vector<Tensor> inputs = net.parameters();
  const Tensor x = testing::random_double({4, 5, 5, 2}, 8);
  inputs.push_back(x);
  testing::expect_gradients_match([&](const std::vector<Tensor>&) { return net.forward(x); },
                                  inputs, 1e-6, 1e-5);
}

TEST(ZophLeSpace, ModelScaleNarrowsEveryLayer) {
  const Json o = {{"layers", 3}};
  const ScaledModel half = scale_model("zoph-le", o, kPoint, 0.5);
  EXPECT_EQ(half.space->name(), "zoph-le");
  EXPECT_EQ(dynamic_cast<const ZophLeSpace&>(*half.space).options().filters,
            (std::vector<int64_t>{12, 18, 24, 32}));
  EXPECT_EQ(half.space->to_text(half.point), "3x5x18 | 1x7x12 <- 0 | 5x3x32 <- 1");
}

}  // namespace
}  // namespace fusenas::nas::space

namespace fusenas::nas {
namespace {

using testing::message_of;
using testing::quiet_options;
using testing::read_json;
using testing::TempDir;

BlackBoxConfig tiny_zoph_le_search(const std::string& data_dir) {
  BlackBoxConfig c = blackbox_preset("quick", "zoph-le");
  c.space_options = {{"layers", 3}, {"filters", {2, 4}}, {"strides", {1, 2}}};
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.data.train_subset = 32;
  c.batch_size = 8;
  c.epochs = 1;
  c.budget_trials = 3;
  c.seed = 5;
  return c;
}

// `nas_search --space zoph-le`, then `nas_train` on its incumbent, as the search's train_command
// says: trials record the space's parameter counts, and the trained network has the same.
TEST(ZophLeSearch, ASearchsIncumbentTrainsWithItsOptions) {
  TempDir tmp;
  testing::write_tiny_cifar(tmp.sub("data"), 8);
  const BlackBoxConfig c = tiny_zoph_le_search(tmp.sub("data"));
  const std::string out = tmp.sub("search");
  const BlackBoxResult r = blackbox_search(c, quiet_options<BlackBoxOptions>(out));
  EXPECT_TRUE(r.finished);
  const space::ZophLeSpace space(space::ZophLeOptions::from_json(c.space_options));
  const space::ImageShape cifar{3, 32, 10};
  const std::vector<Trial> trials = TrialDb::open(out + "/" + TrialDb::kFile).trials();
  ASSERT_EQ(trials.size(), 3u);
  for (const Trial& t : trials) {
    EXPECT_EQ(t.status, TrialStatus::kDone) << t.id << " " << t.error;
    EXPECT_EQ(*t.params, space.count_parameters(t.candidate, cifar));
  }
  const nlohmann::json inc = read_json(out + "/incumbent.json");
  EXPECT_EQ(inc["space"], "zoph-le");
  EXPECT_EQ(inc["text"], space.to_text(inc["arch"]));
  EXPECT_NE(inc["train_command"].get<std::string>().find("nas_train --arch-file " + out +
                                                         "/incumbent.json"),
            std::string::npos);

  TrainConfig t;
  t.arch_file = out + "/incumbent.json";
  t.data.dataset = "cifar10";
  t.data.data_dir = tmp.sub("data");
  t.data.train_subset = 16;
  t.epochs = 1;
  t.batch_size = 8;
  const TrainResult trained = train(t, quiet_options<TrainOptions>(tmp.sub("train")));
  ASSERT_TRUE(trained.finished);
  EXPECT_EQ(trained.params, space.count_parameters(inc["arch"], cifar));
  const nlohmann::json config = read_json(tmp.sub("train/config.json"));
  EXPECT_EQ(config["space"], "zoph-le");
  EXPECT_EQ(config["space_options"], space.options().to_json());
  EXPECT_EQ(config["init_channels"], 4);  // the widest filter choice

  // Twice the width doubles every layer's filters.
  t.init_channels = 8;
  space::ZophLeArch wide = space.arch(inc["arch"]);
  for (auto& l : wide.layers) l.filters *= 2;
  const std::string summary = dry_run_summary(t);
  EXPECT_NE(summary.find("params: " + std::to_string(space::zoph_le_parameter_count(wide, cifar))),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(space::to_text(wide)), std::string::npos) << summary;
  EXPECT_NE(summary.find("filters scaled by 8/4"), std::string::npos) << summary;
}

TEST(ZophLeSearch, EstimatorsWithoutZophLeSupportRefuseIt) {
  TempDir tmp;
  BlackBoxConfig c = tiny_zoph_le_search(tmp.sub("data"));
  EXPECT_NO_THROW(c.validate());
  c.strategy.name = "evolution";
  c.estimator.name = "morphism";
  EXPECT_NE(message_of([&] { c.validate(); })
                .find("--estimator morphism evolves chain or multibranch networks (the spaces "
                      "with morphisms), not zoph-le"),
            std::string::npos);
  c = tiny_zoph_le_search(tmp.sub("data"));
  c.estimator.name = "tapas";
  c.estimator.predictor = tmp.sub("model");
  EXPECT_NE(message_of([&] { c.validate(); })
                .find("--estimator tapas predicts chain and multibranch architectures, not "
                      "zoph-le"),
            std::string::npos);
  c = tiny_zoph_le_search(tmp.sub("data"));
  c.estimator.name = "one-shot";
  EXPECT_NE(message_of([&] {
              c.validate();
            }).find("--estimator one-shot has no supernet for the zoph-le space"),
            std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas
