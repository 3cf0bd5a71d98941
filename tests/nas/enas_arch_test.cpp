// ENAS architectures: micro and macro JSON/text forms, unused nodes, the Genotype conversion both
// ways, and clear errors for bad input.
#include <gtest/gtest.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/arch.h"

namespace fusenas::nas::enas {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_error(const std::function<void()>& f, const std::string& needle) {
  const std::string message = error_of(f);
  EXPECT_NE(message.find(needle), std::string::npos) << "message: '" << message << "'";
}

// Normal: node 2 = sep3(0) + id(1); node 3 = avg(2) + sep5(0); node 4 = max(1) + sep3(1).
// Node 2 is read by node 3, so the cell concatenates 3 and 4.
MicroArch example_micro() {
  MicroArch a;
  a.normal = {{0, MicroOp::kSepConv3x3, 1, MicroOp::kIdentity},
              {2, MicroOp::kAvgPool3x3, 0, MicroOp::kSepConv5x5},
              {1, MicroOp::kMaxPool3x3, 1, MicroOp::kSepConv3x3}};
  a.reduce = {{1, MicroOp::kMaxPool3x3, 0, MicroOp::kMaxPool3x3},
              {2, MicroOp::kIdentity, 2, MicroOp::kSepConv5x5},
              {3, MicroOp::kAvgPool3x3, 2, MicroOp::kIdentity}};
  return a;
}

TEST(EnasMicroArch, OpNamesInEnasOrder) {
  EXPECT_EQ(micro_op_names(),
            (std::vector<std::string>{"sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3",
                                      "max_pool_3x3", "identity"}));
  EXPECT_EQ(micro_op_from_name("max_pool_3x3"), MicroOp::kMaxPool3x3);
  EXPECT_EQ(micro_op_name(MicroOp::kIdentity), "identity");
}

TEST(EnasMicroArch, UnusedNodesAreTheConcatenatedOnes) {
  const MicroArch a = example_micro();
  EXPECT_EQ(unused_nodes(a.normal), (std::vector<int>{3, 4}));
  EXPECT_EQ(unused_nodes(a.reduce), (std::vector<int>{4}));
  // A chain uses every node but the last.
  const MicroCell chain = {{0, MicroOp::kIdentity, 1, MicroOp::kIdentity},
                           {2, MicroOp::kIdentity, 2, MicroOp::kIdentity},
                           {3, MicroOp::kIdentity, 0, MicroOp::kIdentity}};
  EXPECT_EQ(unused_nodes(chain), (std::vector<int>{4}));
}

TEST(EnasMicroArch, JsonAndTextForms) {
  const MicroArch a = example_micro();
  EXPECT_EQ(MicroArch::from_json(a.to_json()), a);
  EXPECT_EQ(a.to_json().substr(0, 60),
            R"({"normal":[[0,"sep_conv_3x3",1,"identity"],[2,"avg_pool_3x3")");
  const std::string text = a.to_text();
  EXPECT_NE(text.find("normal cell:\n  node 2 = sep_conv_3x3(0) + identity(1)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  concat 3 4\nreduce cell:"), std::string::npos) << text;
  EXPECT_EQ(a.to_enas_string(), "0 0 1 4 2 2 0 1 1 3 1 0 | 1 3 0 3 2 4 2 1 3 2 2 4");
}

TEST(EnasMicroArch, ExportsToGenotypeAndBack) {
  const MicroArch a = example_micro();
  const Genotype g = to_genotype(a);
  EXPECT_EQ(g.steps(), 3);
  EXPECT_EQ(g.normal[1], (GenotypeEdge{"skip_connect", 1}));
  EXPECT_EQ(g.normal[2], (GenotypeEdge{"avg_pool_3x3", 2}));
  EXPECT_EQ(g.normal_concat, (std::vector<int>{3, 4}));
  EXPECT_EQ(g.reduce_concat, (std::vector<int>{4}));
  EXPECT_EQ(micro_arch_from_genotype(g), a);

  // The published ENAS cell is in the micro space: it converts and comes back unchanged.
  const Genotype enas = builtin_genotype("ENAS");
  const MicroArch from_enas = micro_arch_from_genotype(enas);
  EXPECT_EQ(from_enas.num_nodes(), 5);
  EXPECT_EQ(from_enas.normal[0], (MicroNode{1, MicroOp::kSepConv3x3, 1, MicroOp::kIdentity}));
  EXPECT_EQ(to_genotype(from_enas), enas);

  // Concat order does not matter on the way in; the result concatenates ascending.
  Genotype shuffled = g;
  shuffled.normal_concat = {4, 3};
  EXPECT_EQ(micro_arch_from_genotype(shuffled), a);
}

TEST(EnasMicroArch, GenotypesOutsideTheMicroSpaceFailPlainly) {
  expect_error([] { micro_arch_from_genotype(builtin_genotype("DARTS_V2")); },
               "uses 'dil_conv_3x3', but the micro space has only");
  // DARTS concatenates every node, ENAS only the unused ones.
  expect_error([] { micro_arch_from_genotype(builtin_genotype("DARTS_V1")); },
               "the normal cell concatenates states [2, 3, 4, 5], but an ENAS cell concatenates "
               "exactly its unused nodes, here [3, 4, 5]");
  Genotype g = to_genotype(example_micro());
  g.reduce.pop_back();
  g.reduce.pop_back();
  g.reduce_concat = {3};
  expect_error([&] { micro_arch_from_genotype(g); },
               "normal cell has 3 nodes but the reduce cell has 2");
}

TEST(EnasMicroArch, ClearErrors) {
  expect_error([] { MicroArch::from_json("{\"normal\": [[0, "); }, "malformed micro arch JSON");
  expect_error([] { MicroArch::from_json("[1, 2]"); }, "expected an object");
  expect_error([] { MicroArch::from_json(R"({"normal": []})"); }, "malformed micro arch JSON");
  expect_error([] { MicroArch::from_json(R"({"normal": [[0, "identity", 1]], "reduce": []})"); },
               "node 2 of 'normal' must be [input_a, \"op_a\", input_b, \"op_b\"]");
  expect_error(
      [] {
        MicroArch::from_json(
            R"({"normal": [[0, "conv_9x9", 1, "identity"]], "reduce": [[0, "identity", 1, "identity"]]})");
      },
      "unknown micro op 'conv_9x9' (known: sep_conv_3x3, sep_conv_5x5, avg_pool_3x3, "
      "max_pool_3x3, identity)");
  expect_error(
      [] {
        MicroArch::from_json(
            R"({"normal": [[0, "identity", 2, "identity"]], "reduce": [[0, "identity", 1, "identity"]]})");
      },
      "node 2 of the normal cell reads state 2, but it can only read states 0..1");
  MicroArch a = example_micro();
  a.reduce[1].input_a = -1;
  expect_error([&] { a.validate(); }, "node 3 of the reduce cell reads state -1");
  a = example_micro();
  a.normal[0].op_b = static_cast<MicroOp>(7);
  expect_error([&] { a.validate(); }, "has op value 7, outside 0..4");
  a = example_micro();
  a.reduce.pop_back();
  expect_error([&] { a.validate(); }, "normal cell has 3 nodes but the reduce cell has 2");
  expect_error([] { MicroArch{}.validate(); }, "the normal cell has no nodes");
}

MacroArch example_macro() {
  MacroArch m;
  m.layers = {{MacroOp::kConv5x5, {}},
              {MacroOp::kSepConv3x3, {true}},
              {MacroOp::kAvgPool3x3, {false, false}},
              {MacroOp::kConv3x3, {true, false, true}}};
  return m;
}

TEST(EnasMacroArch, JsonTextAndEnasForms) {
  EXPECT_EQ(macro_op_names(),
            (std::vector<std::string>{"conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5",
                                      "max_pool_3x3", "avg_pool_3x3"}));
  const MacroArch m = example_macro();
  EXPECT_EQ(m.num_skips(), 3);
  EXPECT_EQ(MacroArch::from_json(m.to_json()), m);
  EXPECT_EQ(
      MacroArch::from_json(
          R"({"layers": [{"op": "conv_5x5", "skips": []}, {"op": "sep_conv_3x3", "skips": [true]},
                   {"op": "avg_pool_3x3", "skips": [0, false]},
                   {"op": "conv_3x3", "skips": [1, 0, 1]}]})"),
      m);
  EXPECT_EQ(m.to_text(),
            "layer 0: conv_5x5\nlayer 1: sep_conv_3x3, skips from 0\nlayer 2: avg_pool_3x3\n"
            "layer 3: conv_3x3, skips from 0 2\n");
  // ENAS's numbering: conv5 = 2, sep3 = 1, avg pool = 4, conv3 = 0 (general_child.py).
  EXPECT_EQ(m.to_enas_string(), "2 1 1 4 0 0 0 1 0 1");
  EXPECT_EQ(MacroArch::from_enas_string("2 1 1 4 0 0 0 1 0 1"), m);
}

// An arc as ENAS's fixed_arc takes it (written by hand in its numbering: 0 conv3, 1 sep3,
// 2 conv5, 3 sep5, 4 avg, 5 max) reads back as the same ops and skips, and writes back unchanged.
TEST(EnasMacroArch, ReadsAndWritesEnassArcStrings) {
  const std::string enas = "3\n5 1\n0 0 1 \t4 1 1 0";
  const MacroArch a = MacroArch::from_enas_string(enas);
  ASSERT_EQ(a.num_layers(), 4);
  EXPECT_EQ(a.layers[0].op, MacroOp::kSepConv5x5);
  EXPECT_EQ(a.layers[1].op, MacroOp::kMaxPool3x3);
  EXPECT_EQ(a.layers[1].skips, (std::vector<bool>{true}));
  EXPECT_EQ(a.layers[2].op, MacroOp::kConv3x3);
  EXPECT_EQ(a.layers[2].skips, (std::vector<bool>{false, true}));
  EXPECT_EQ(a.layers[3].op, MacroOp::kAvgPool3x3);
  EXPECT_EQ(a.layers[3].skips, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(a.to_enas_string(), "3 5 1 0 0 1 4 1 1 0");
  expect_error([] { MacroArch::from_enas_string(""); }, "no values");
  expect_error([] { MacroArch::from_enas_string("6"); }, "layer 0 has op 6");
  expect_error([] { MacroArch::from_enas_string("0 1 2"); }, "skip 0 is 2");
  expect_error([] { MacroArch::from_enas_string("0 1"); }, "end inside layer 1");
  expect_error([] { MacroArch::from_enas_string("0 1 x"); }, "('x') is not a digit");
  expect_error([] { MacroArch::from_enas_string("0 -1"); }, "is not a digit");
}

TEST(EnasMacroArch, ClearErrors) {
  expect_error([] { MacroArch::from_json("{"); }, "malformed macro arch JSON");
  expect_error([] { MacroArch::from_json(R"({"layer": []})"); }, "expected {\"layers\": [...]}");
  expect_error([] { MacroArch::from_json(R"({"layers": []})"); }, "macro arch: no layers");
  expect_error([] { MacroArch::from_json(R"({"layers": [{"op": "identity", "skips": []}]})"); },
               "unknown macro op 'identity' (known: conv_3x3, conv_5x5");
  expect_error(
      [] {
        MacroArch::from_json(
            R"({"layers": [{"op": "conv_3x3", "skips": []}, {"op": "conv_3x3", "skips": [2]}]})");
      },
      "layer 1 has skip entry 2, not 0 or 1");
  expect_error(
      [] {
        MacroArch::from_json(
            R"({"layers": [{"op": "conv_3x3", "skips": []}, {"op": "conv_3x3", "skips": [1, 0]}]})");
      },
      "layer 1 has 2 skip entries, but it needs exactly 1");
  MacroArch m = example_macro();
  m.layers[2].op = static_cast<MacroOp>(-1);
  expect_error([&] { m.validate(); }, "layer 2 has op value -1, outside 0..5");
}

}  // namespace
}  // namespace fusenas::nas::enas
