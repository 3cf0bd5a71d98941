// The darts-cell space: the space contract over many samples and mutations, one decision per
// mutation, refusals of hostile points, both encodings (the path encoding worked by hand), and
// parameter counts of built networks worked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/space_contract.h"
#include "fusenas/nas/train/train_config.h"
#include "support/expect.h"

namespace fusenas::nas::space {
namespace {

using fusenas::testing::expect_error;
using Json = nlohmann::json;

// A cell's decisions: per node the multiset of its (input, op) edges (their order is not a
// decision: a node sums its edges).
using NodeEdges = std::multiset<std::pair<int, std::string>>;
std::vector<NodeEdges> decisions(const std::vector<GenotypeEdge>& edges) {
  std::vector<NodeEdges> nodes(edges.size() / 2);
  for (size_t e = 0; e < edges.size(); ++e) nodes[e / 2].insert({edges[e].input, edges[e].op});
  return nodes;
}

// Exactly one edge of one node differs, in its op or its input but not both.
void expect_one_decision(const Genotype& a, const Genotype& b) {
  int changed_nodes = 0;
  for (int cell = 0; cell < 2; ++cell) {
    const auto da = decisions(cell == 0 ? a.normal : a.reduce);
    const auto db = decisions(cell == 0 ? b.normal : b.reduce);
    ASSERT_EQ(da.size(), db.size());
    for (size_t n = 0; n < da.size(); ++n) {
      if (da[n] == db[n]) continue;
      ++changed_nodes;
      std::vector<std::pair<int, std::string>> gone, added;
      std::set_difference(da[n].begin(), da[n].end(), db[n].begin(), db[n].end(),
                          std::back_inserter(gone));
      std::set_difference(db[n].begin(), db[n].end(), da[n].begin(), da[n].end(),
                          std::back_inserter(added));
      ASSERT_EQ(gone.size(), 1u);
      ASSERT_EQ(added.size(), 1u);
      EXPECT_NE(gone[0].first == added[0].first, gone[0].second == added[0].second)
          << "exactly one of input and op changes";
    }
  }
  EXPECT_EQ(changed_nodes, 1);
}

TEST(DartsCellSpace, SamplesKeepTheContractAndTheCellRules) {
  const DartsCellSpace space;
  Generator gen(1);
  for (int i = 0; i < 1000; ++i) {
    const Point p = space.sample(gen);
    check_point_contract(space, p);
    const Genotype g = space.genotype(p);
    EXPECT_EQ(g.normal.size(), 8u);
    EXPECT_EQ(g.reduce_concat, (std::vector<int>{2, 3, 4, 5}));
    for (const auto* edges : {&g.normal, &g.reduce}) {
      for (size_t n = 0; n < 4; ++n) EXPECT_LT((*edges)[2 * n].input, (*edges)[2 * n + 1].input);
    }
  }
}

TEST(DartsCellSpace, MutationChainsChangeExactlyOneDecisionAndStayValid) {
  for (const auto& options : {DartsCellOptions{}, [] {
                                DartsCellOptions o;
                                o.nodes = 2;
                                o.ops = {"skip_connect"};  // only inputs can change
                                return o;
                              }()}) {
    const DartsCellSpace space(options);
    Generator gen(2);
    for (int chain = 0; chain < 1000; ++chain) {
      Point p = space.sample(gen);
      for (int step = 0; step < 5; ++step) {
        const Point child = space.mutate(p, gen);
        check_mutation_contract(space, p, child);
        expect_one_decision(space.genotype(p), space.genotype(child));
        p = child;
      }
    }
  }
}

TEST(DartsCellSpace, JsonRoundTripAndPublishedCells) {
  const DartsCellSpace space;
  const Genotype darts_v2 = builtin_genotype("DARTS_V2");
  const Point p = DartsCellSpace::point(darts_v2);
  check_point_contract(space, p);
  EXPECT_EQ(space.genotype(p), darts_v2);
  EXPECT_EQ(space.genotype(Json::parse(p.dump())), darts_v2);
  EXPECT_EQ(space.to_text(p), darts_v2.to_text());
  // ENAS's cell has 5 nodes and concatenates only its loose ends: not a point of this space.
  expect_error([&] { space.validate(DartsCellSpace::point(builtin_genotype("ENAS"))); },
               {"darts-cell: normal", "exactly 8 entries, got 10"});
}

TEST(DartsCellSpace, RefusesHostilePointsNamingTheFieldAndTheRule) {
  const DartsCellSpace space;
  Generator gen(3);
  const Point good = space.sample(gen);
  const auto with = [&](const std::string& pointer, const Json& value) {
    Point p = good;
    p[Json::json_pointer(pointer)] = value;
    return p;
  };
  Point missing = good;
  missing.erase("reduce_concat");
  Point extra = good;
  extra["auxiliary"] = true;
  Json nested = Json::array();
  for (int i = 0; i < 1000; ++i) nested = Json::array({nested});
  const std::vector<std::pair<Point, std::vector<std::string>>> cases = {
      {Json(42), {"darts-cell: the point must be an object, got 42"}},
      {Json::array(), {"must be an object, got an array of 0"}},
      {missing, {"missing the key 'reduce_concat'"}},
      {extra, {"unknown key \"auxiliary\""}},
      {with("/normal", "sep_conv_3x3"), {"normal must be an array"}},
      {with("/normal/3", nested), {"normal[3] must have exactly 2 entries, got 1"}},
      {with("/normal/3", Json::array({"sep_conv_3x3", 0, 1})), {"normal[3] must have exactly 2"}},
      {with("/normal/3/0", 7), {"normal[3][0] must be a string, got 7"}},
      {with("/normal/3/0", "none"), {"normal[3][0] must be one of the space's ops", "\"none\""}},
      {with("/normal/3/0", std::string(5000, 'x')), {"one of the space's ops", "xxx..."}},
      {with("/reduce/2/1", 1.5), {"reduce[2][1] must be an integer in [0, ", "got 1.5"}},
      {with("/reduce/2/1", true), {"reduce[2][1] must be an integer", "got true"}},
      {with("/reduce/2/1", -1), {"reduce[2][1] must be an integer", "got -1"}},
      {with("/reduce/2/1", uint64_t{1} << 63), {"reduce[2][1] must be an integer"}},
      {with("/reduce/2/1", std::numeric_limits<double>::quiet_NaN()), {"got nan"}},
      {with("/reduce/2/1", 3),
       {"reduce[2][1] is state 3, but node 1 (state 3) may read only states 0..2"}},
      {with("/normal/1/1", good["normal"][0][1]), {"normal[1][1] is state 0 again", "distinct"}},
      {with("/normal_concat", Json::array({2, 3, 4})), {"normal_concat must be [2, 3, 4, 5]"}},
      {with("/reduce_concat/1", "3"), {"reduce_concat[1] is \"3\"", "every intermediate node"}},
      {with("/reduce_concat", nullptr), {"reduce_concat must be [2, 3, 4, 5]", "got null"}},
  };
  // The case at index 16 needs node 0's first input to be 0, which sampled order guarantees.
  ASSERT_EQ(good["normal"][0][1], 0);
  for (const auto& [p, parts] : cases) {
    SCOPED_TRACE(p.dump().substr(0, 200));
    expect_error([&] { space.validate(p); }, parts);
    expect_error([&] { (void)space.encode(p); }, parts);
  }
}

TEST(DartsCellSpace, AdjacencyEncodingMarksOneEntryPerEdge) {
  const DartsCellSpace space;
  EXPECT_EQ(space.encoding_size(), 196);  // 2 cells x 7 ops x (2 + 3 + 4 + 5) possible inputs
  Generator gen(4);
  for (int i = 0; i < 100; ++i) {
    const auto v = space.encode(space.sample(gen));
    EXPECT_EQ(std::count(v.begin(), v.end(), 1.0f), 16);
  }
  // The first edge of DARTS_V2's normal cell, ('sep_conv_3x3', 0): node 0, input 0, op index 3
  // of the 7 -> entry 3. Its last, ('dil_conv_3x3', 2) of node 3: inputs before node 3 are
  // 2 + 3 + 4 = 9, so slot 9 + 2 = 11; op index 5, so entry 11 * 7 + 5 = 82.
  const auto v = space.encode(DartsCellSpace::point(builtin_genotype("DARTS_V2")));
  EXPECT_EQ(v[3], 1.0f);
  EXPECT_EQ(v[82], 1.0f);
}

TEST(DartsCellSpace, PathEncodingWorkedByHand) {
  DartsCellOptions o;
  o.nodes = 2;
  o.ops = {"max_pool_3x3", "skip_connect"};
  o.encoding = "path";
  const DartsCellSpace space(o);
  // Per input 2 paths of one op + 4 of two ops = 6; 2 inputs x 2 cells: 24.
  ASSERT_EQ(space.encoding_size(), 24);
  // node 0 (state 2) = max_pool(s0) + skip(s1); node 1 (state 3) = skip(s0) + max_pool(state 2).
  Genotype g;
  g.normal = {{"max_pool_3x3", 0}, {"skip_connect", 1}, {"skip_connect", 0}, {"max_pool_3x3", 2}};
  g.normal_concat = {2, 3};
  g.reduce = g.normal;
  g.reduce_concat = {2, 3};
  // Paths from input 0: max (to node 0), skip (to node 1), max -> max (through node 0 to 1).
  // From input 1: skip (to node 0), skip -> max. Within an input: the one-op paths at 0 (max),
  // 1 (skip), the two-op ones at 2 + first * 2 + second. Input 1 starts at 6, reduce at 12.
  const std::vector<int> ones = {0, 1, 2, 6 + 1, 6 + 2 + 1 * 2 + 0};
  std::vector<float> expected(24, 0.0f);
  for (int cell = 0; cell < 2; ++cell)
    for (int i : ones) expected[static_cast<size_t>(12 * cell + i)] = 1.0f;
  EXPECT_EQ(space.encode(DartsCellSpace::point(g)), expected);
  EXPECT_EQ(space.path_encoding().describe(10),
            "normal cell, input 1: skip_connect -> max_pool_3x3");
  EXPECT_EQ(space.path_encoding().describe(14),
            "reduce cell, input 0: max_pool_3x3 -> max_pool_3x3");

  // Truncated to one-op paths: 2 per input, 8 in all, the first of each block of 6 above.
  o.path_max_length = 1;
  const DartsCellSpace truncated(o);
  ASSERT_EQ(truncated.encoding_size(), 8);
  EXPECT_EQ(truncated.encode(DartsCellSpace::point(g)),
            (std::vector<float>{1, 1, 0, 1, 1, 1, 0, 1}));
}

TEST(DartsCellSpace, PathEncodingSizeOfTheDefaultSpace) {
  DartsCellOptions o;
  o.encoding = "path";
  const DartsCellSpace space(o);
  // 2 cells x 2 inputs x (7 + 49 + 343 + 2401) labelled paths, untruncated.
  EXPECT_EQ(space.encoding_size(), 4 * (7 + 49 + 343 + 2401));
  Generator gen(5);
  for (int i = 0; i < 50; ++i) check_point_contract(space, space.sample(gen));
  // Both cells read their inputs, so both halves of the encoding hold paths.
  const auto v = space.encode(DartsCellSpace::point(builtin_genotype("DARTS_V2")));
  EXPECT_GT(std::count(v.begin(), v.begin() + 5600, 1.0f), 0);
  EXPECT_GT(std::count(v.begin() + 5600, v.end(), 1.0f), 0);
}

TEST(DartsCellSpace, OptionsAreCheckedAndRoundTrip) {
  DartsCellOptions o;
  o.nodes = 5;
  o.encoding = "path";
  o.path_max_length = 3;
  EXPECT_EQ(DartsCellOptions::from_json(o.to_json()).to_json(), o.to_json());
  expect_error(
      [] {
        DartsCellOptions::from_json({{"nodes", 0}});
      },
      {"darts-cell options: nodes must be an integer in [1, 32], got 0"});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"ops", {"none", "skip_connect"}}});
      },
      {"ops[0] is 'none'"});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"ops", {"skip_connect", "skip_connect"}}});
      },
      {"ops[1] 'skip_connect' is listed twice"});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"ops", {"conv_9x9"}}});
      },
      {"ops[0] 'conv_9x9' is not a known op"});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"cells", 2}});
      },
      {"cells must be an integer in [3, 100]"});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"encoding", "graph"}});
      },
      {"encoding must be \"adjacency\" or \"path\""});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"stacking", 1}});
      },
      {"unknown key \"stacking\""});
  expect_error(
      [] {
        DartsCellOptions::from_json({{"nodes", 1}, {"ops", {"skip_connect"}}});
      },
      {"a space of one point"});
  // 7 ops and 8 nodes: 4 x (7 + ... + 7^8) entries is past the limit; truncation fixes it.
  expect_error(
      [] {
        DartsCellOptions::from_json({{"nodes", 8}, {"encoding", "path"}});
      },
      {"set path_max_length lower"});
  EXPECT_NO_THROW(
      DartsCellOptions::from_json({{"nodes", 8}, {"encoding", "path"}, {"path_max_length", 4}}));
  const DartsCellSpace big(DartsCellOptions::from_json({{"nodes", 8}}));  // adjacency: fine
  expect_error([&] { (void)big.path_encoding(); }, {"set path_max_length lower"});
}

// The default network is nas_train's.
TEST(DartsCellSpace, DefaultNetworkIsNasTrainsDefault) {
  const TrainConfig train = TrainConfig{}.resolved();  // 0 = the default width and cells
  EXPECT_EQ(DartsCellOptions{}.init_channels, train.init_channels);
  EXPECT_EQ(DartsCellOptions{}.cells, train.layers);
}

// EvalNetwork with C = 2, 3 cells (reductions at cells 1 and 2), one node per cell, 1 input
// channel, 10 classes:
//   stem: 3C = 6 channels, conv 1 -> 6 3x3 = 54, BN 12                                  =  66
//   cell 0 (normal, c = 2, inputs 6 and 6): two 1x1 ReLUConvBN 6 -> 2: 2 x (12 + 4)      =  32
//   cell 1 (reduction, c = 4, inputs 6, 2): 6 -> 4: 24 + 8; 2 -> 4: 8 + 8                =  48
//   cell 2 (reduction, c = 8, inputs 2 (after a reduction: FactorizedReduce, two 1x1
//          2 -> 4 = 16, BN 16) and 4 (4 -> 8: 32 + 16))                                  =  80
//   classifier: 8 x 10 + 10                                                              =  90
// plus each cell's ops.
TEST(DartsCellSpace, ParameterCountsWorkedByHand) {
  const ImageShape shape{1, 8, 10};
  const auto count_both = [&](const DartsCellSpace& space, const Genotype& g) {
    Generator gen(6);
    const Point p = DartsCellSpace::point(g);
    const int64_t counted = space.count_parameters(p, shape);
    EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), counted);
    return counted;
  };
  DartsCellOptions o;
  o.nodes = 1;
  o.init_channels = 2;
  o.cells = 3;
  o.ops = {"max_pool_3x3", "avg_pool_3x3"};
  Genotype pools;
  pools.normal = {{"max_pool_3x3", 0}, {"avg_pool_3x3", 1}};
  pools.reduce = pools.normal;
  pools.normal_concat = pools.reduce_concat = {2};
  // Pools have no weights.
  EXPECT_EQ(count_both(DartsCellSpace(o), pools), 66 + 32 + 48 + 80 + 90);

  o.ops = {"sep_conv_3x3", "skip_connect"};
  Genotype convs;
  convs.normal = {{"sep_conv_3x3", 0}, {"skip_connect", 1}};
  convs.reduce = {{"skip_connect", 0}, {"sep_conv_3x3", 1}};
  convs.normal_concat = convs.reduce_concat = {2};
  // sep_conv_3x3 at c: twice (depthwise 9c + 1x1 c^2 + BN 2c). skip_connect: nothing at stride 1,
  // FactorizedReduce(c, c) = c^2 + 2c at stride 2 (reduction cells reading their inputs).
  const int64_t cell0 = 2 * (9 * 2 + 2 * 2 + 2 * 2) + 0;                // 52
  const int64_t cell1 = (4 * 4 + 2 * 4) + 2 * (9 * 4 + 4 * 4 + 2 * 4);  // 24 + 120
  const int64_t cell2 = (8 * 8 + 2 * 8) + 2 * (9 * 8 + 8 * 8 + 2 * 8);  // 80 + 304
  EXPECT_EQ(count_both(DartsCellSpace(o), convs), 66 + 32 + 48 + 80 + 90 + cell0 + cell1 + cell2);
}

TEST(DartsCellSpace, CountedParametersEqualBuiltNetworksOverSamples) {
  DartsCellOptions small;
  small.init_channels = 4;
  small.cells = 4;
  for (const auto& o : {small, DartsCellOptions{}}) {
    const DartsCellSpace space(o);
    Generator gen(7);
    for (int i = 0; i < 8; ++i) {
      const Point p = space.sample(gen);
      for (const ImageShape& shape : {ImageShape{1, 28, 10}, ImageShape{3, 32, 100}})
        EXPECT_EQ(space.build(p, shape, gen)->num_parameters(), space.count_parameters(p, shape));
    }
  }
  // DARTS_V2 at nas_train's defaults on Fashion-MNIST, as EvalNetwork counts it.
  EvalNetworkConfig c;
  c.genotype = builtin_genotype("DARTS_V2");
  c.in_channels = 1;
  c.image_size = 28;
  c.init_channels = 16;
  c.layers = 8;
  Generator gen(8);
  EXPECT_EQ(DartsCellSpace().count_parameters(DartsCellSpace::point(c.genotype), {1, 28, 10}),
            EvalNetwork(c, gen).num_parameters());
}

TEST(DartsCellSpace, ForwardGivesFiniteLogits) {
  DartsCellOptions o;
  o.init_channels = 4;
  o.cells = 3;
  const DartsCellSpace space(o);
  Generator gen(9);
  for (int i = 0; i < 3; ++i) {
    auto net = space.build(space.sample(gen), {3, 8, 10}, gen);
    const Tensor logits = net->forward(uniform({2, 8, 8, 3}, -1, 1, gen));
    ASSERT_EQ(logits.shape(), (Shape{2, 10}));
    for (float v : logits.to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  }
  expect_error(
      [&] {
        (void)space.build(space.sample(gen), {1, 30, 10}, gen);
      },
      {"image size must be a multiple of 4 (two reductions of even maps), got 30"});
}

}  // namespace
}  // namespace fusenas::nas::space
