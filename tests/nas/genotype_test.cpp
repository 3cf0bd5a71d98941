// Genotype: text and JSON round trips, the published cells, and errors for bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"
#include "fusenas/nas/genotype.h"

namespace fusenas::nas {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A genotype text whose normal cell is `normal` and whose other fields are valid.
std::string with_normal(const std::string& normal) {
  return "Genotype(normal=" + normal +
         ", normal_concat=[2], reduce=[('skip_connect', 0), ('skip_connect', 1)], "
         "reduce_concat=[2])";
}

std::string text_error(const std::string& text) {
  return error_of([&] { Genotype::parse_text(text); });
}

void expect_has(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(GenotypeTextLimits, NestingIsBoundedAndNamesThePosition) {
  // 50,000 open brackets crashed the recursive reader.
  const std::string deep = text_error("Genotype(normal=" + std::string(50000, '[') + ")");
  expect_has(deep, "at line 1, column 21: brackets nested deeper than 4 levels");
  // Four levels still parse.
  EXPECT_EQ(Genotype::parse_text(with_normal("[[[[('skip_connect', 0), ('skip_connect', 1)]]]]"))
                .normal.size(),
            2u);
  expect_has(text_error("Genotype(\n  normal=[('skip_connect', 0) ('skip_connect' 1)])"),
             "at line 2, column 47: expected ','");
}

TEST(GenotypeTextLimits, IntegersAreBounded) {
  // Was a bare "stoi" from std::out_of_range.
  const std::string huge = text_error(with_normal("[('dil_conv_3x3', 99999999999), ('none', 0)]"));
  expect_has(huge, "at line 1, column 35: integer 99999999999 is outside -1000..1000");
  expect_has(
      text_error(with_normal("[('none', 0), ('none', -" + std::string(5000, '9') + ")]")),
      "at line 1, column 40: integer -" + std::string(36, '9') + "... is outside -1000..1000");
  // Within the bound, the validator names the rule.
  expect_has(text_error(with_normal("[('none', 0), ('none', 1000)]")),
             "edge 1 of the normal cell reads state 1000");
}

TEST(GenotypeTextLimits, SizesAreBoundedBeforeAllocating) {
  // range(0, 2000000000) allocated 8 GB: its end is now out of bounds, and any wider range than a
  // concat may hold is refused before it is expanded.
  expect_has(text_error("Genotype(normal=[], normal_concat=range(0, 2000000000))"),
             "integer 2000000000 is outside -1000..1000");
  expect_has(text_error("Genotype(normal=[], normal_concat=range(-1000, 1000))"),
             "at line 1, column 35: range(-1000, 1000) names 2000 states; a concat holds at most "
             "34");
  std::string edges = "[";
  for (int i = 0; i < 2 * kMaxGenotypeNodes + 1; ++i) edges += "('skip_connect', 0), ";
  expect_has(text_error(with_normal(edges + "]")), "a cell has more than 64 edges (32 nodes");
  std::string concat = "[";
  for (int i = 0; i < kMaxGenotypeConcat + 1; ++i) concat += "2, ";
  expect_has(text_error("Genotype(normal=[], normal_concat=" + concat + "])"),
             "a concat holds more than 34 states");
  expect_has(text_error(std::string(kMaxGenotypeTextBytes, ' ') + with_normal("[]")),
             "bytes; the limit is 65536");
  expect_has(text_error(with_normal("[('skip_connect', 0), ('skip_connect', 1)], normal=[]")),
             "field 'normal' appears twice");
}

TEST(GenotypeJson, RefusesValuesThatWouldBeCast) {
  auto json_error = [](const std::string& normal_input, const std::string& concat) {
    return error_of([&] {
      Genotype::from_json(R"({"normal": [["skip_connect", 0], ["skip_connect", )" + normal_input +
                          R"(]], "normal_concat": [2], "reduce": [["skip_connect",
                          0], ["skip_connect", 1]], "reduce_concat": )" +
                          concat + "}");
    });
  };
  EXPECT_EQ(json_error("1", "[2]"), "");
  // get<int>() made these 0, 1 and 1.
  expect_has(json_error("4294967296", "[2]"),
             "'normal'[1][1] must be an integer in -1000..1000, got 4294967296");
  expect_has(json_error("1.9", "[2]"), "'normal'[1][1] must be an integer in -1000..1000, got 1.9");
  expect_has(json_error("true", "[2]"), "'normal'[1][1] must be an integer");
  expect_has(json_error("\"1\"", "[2]"), "'normal'[1][1] must be an integer");
  expect_has(json_error("-9223372036854775808", "[2]"), "'normal'[1][1] must be an integer");
  expect_has(json_error("1", "[2, false]"), "'reduce_concat'[1] must be an integer");
  expect_has(json_error("1", "[2.0]"), "'reduce_concat'[0] must be an integer");
  expect_has(json_error("1", "2"), "'reduce_concat' must be an array, got number");
  expect_has(error_of([] { Genotype::from_json(R"({"normal": [["none"]]})"); }),
             "'normal'[0] must be [\"op\", input], got [\"none\"]");
  expect_has(error_of([] { Genotype::from_json(R"({"normal": []})"); }),
             "missing key 'normal_concat'");
  expect_has(error_of([] { Genotype::from_json("[1]"); }), "expected an object, got array");
  // Deep nesting is a clean error, not a crash.
  expect_has(error_of([] { Genotype::from_json("{\"normal\": " + std::string(60000, '[')); }),
             "malformed genotype JSON");
  expect_has(error_of([] { Genotype::from_json(std::string(kMaxGenotypeTextBytes + 1, ' ')); }),
             "genotype JSON has 65537 bytes; the limit is 65536");
}

TEST(GenotypeValidate, ReductionCellsConcatenateOnlyTheirNodes) {
  Genotype g = builtin_genotype("DARTS_V2");
  g.reduce_concat = {0, 1, 2, 3, 4, 5};
  expect_has(error_of([&] { g.validate(); }),
             "the reduce cell concatenates state 0, a cell input; a reduction cell may "
             "concatenate only its nodes (states 2..5)");
  g.reduce_concat = {1};
  expect_has(error_of([&] { g.validate(); }), "concatenates state 1, a cell input");
  // A normal cell's inputs are at its nodes' resolution: concatenating them runs.
  g.reduce_concat = {2, 3, 4, 5};
  g.normal_concat = {0, 1, 2, 3, 4, 5};
  EXPECT_EQ(error_of([&] { g.validate(); }), "");
}

TEST(GenotypeValidate, CellsAreBuiltApart) {
  // The cells may differ in node count, and a concat may name a state twice: both run
  // (genotype_validity_test checks every accepted genotype runs).
  Genotype g = builtin_genotype("DARTS_V2");
  g.reduce.resize(4);
  g.reduce_concat = {2, 3, 3};
  EXPECT_EQ(error_of([&] { g.validate(); }), "");
}

TEST(GenotypeValidate, NodeCountIsBounded) {
  Genotype g;
  for (int node = 0; node < 2000; ++node) {
    g.normal.push_back({"sep_conv_3x3", node + 1});
    g.normal.push_back({"skip_connect", node + 1});
  }
  g.normal_concat = {2001};
  g.reduce = builtin_genotype("DARTS_V2").reduce;
  g.reduce_concat = {2, 3, 4, 5};
  expect_has(error_of([&] { g.validate(); }), "the normal cell has 2000 nodes; the limit is 32");
  g.normal.resize(2 * kMaxGenotypeNodes);
  g.normal_concat = {kMaxGenotypeNodes + 1};
  EXPECT_EQ(error_of([&] { g.validate(); }), "");
}

TEST(Genotype, LoadErrorsNameTheFileAndThePosition) {
  const auto dir = std::filesystem::temp_directory_path() / "fusenas-genotype-load-test";
  std::filesystem::create_directories(dir);
  const std::string deep = (dir / "deep.txt").string();
  std::ofstream(deep) << "Genotype(normal=" << std::string(50000, '[') << ")\n";
  const std::string message = error_of([&] { load_genotype_file(deep); });
  EXPECT_EQ(message.rfind(deep + ": malformed genotype text at line 1, column 21", 0), 0u)
      << message;
  // One file:line tag, the parser's.
  EXPECT_EQ(message.find("] ["), std::string::npos) << message;
  const std::string big = (dir / "big.txt").string();
  std::ofstream(big) << std::string(kMaxGenotypeTextBytes + 1, ' ');
  expect_has(error_of([&] { load_genotype_file(big); }),
             "genotype file " + big + " is larger than the limit of 65536 bytes");
  const std::string json = (dir / "g.json").string();
  Genotype g = builtin_genotype("DARTS_V2");
  g.reduce_concat = {0, 1, 2, 3, 4, 5};
  std::ofstream(json) << g.to_json();
  const std::string rule = error_of([&] { load_genotype_file(json); });
  EXPECT_EQ(rule.rfind(json + ": genotype: the reduce cell concatenates state 0", 0), 0u) << rule;
  std::filesystem::remove_all(dir);
}

TEST(Genotype, TextRoundTripForEveryBuiltinCell) {
  for (const auto& name : builtin_genotype_names()) {
    SCOPED_TRACE(name);
    const Genotype g = builtin_genotype(name);
    EXPECT_EQ(Genotype::parse_text(g.to_text()), g);
    EXPECT_EQ(Genotype::from_json(g.to_json()), g);
  }
}

TEST(Genotype, ParsesTheDartsTextFormExactly) {
  const Genotype g = Genotype::parse_text(
      "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
      "('dil_conv_5x5', 2)],"
      " normal_concat=range(2, 4), reduce=[(\"max_pool_3x3\", 0), ('max_pool_3x3', 1),"
      " ('avg_pool_3x3', 2), ('skip_connect', 1)], reduce_concat=[2, 3])");
  ASSERT_EQ(g.steps(), 2);
  EXPECT_EQ(g.normal[3], (GenotypeEdge{"dil_conv_5x5", 2}));
  EXPECT_EQ(g.normal_concat, (std::vector<int>{2, 3}));
  EXPECT_EQ(g.reduce[0], (GenotypeEdge{"max_pool_3x3", 0}));
  EXPECT_EQ(g.to_text(),
            "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
            "('dil_conv_5x5', 2)], "
            "normal_concat=[2, 3], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), "
            "('avg_pool_3x3', 2), "
            "('skip_connect', 1)], reduce_concat=[2, 3])");
}

TEST(Genotype, AcceptsNestedPairLists) {
  const Genotype nested = Genotype::parse_text(
      "Genotype(normal=[[('sep_conv_3x3', 1), ('skip_connect', 0)], [('sep_conv_3x3', 0), "
      "('sep_conv_3x3', 2)]], "
      "normal_concat=range(2, 4), reduce=[[('max_pool_3x3', 0), ('max_pool_3x3', 1)], "
      "[('skip_connect', 2), "
      "('max_pool_3x3', 0)]], reduce_concat=range(2, 4))");
  EXPECT_EQ(nested.normal.size(), 4u);
  EXPECT_EQ(nested.normal[3], (GenotypeEdge{"sep_conv_3x3", 2}));
}

TEST(Genotype, PublishedCellsHaveTheirShapes) {
  EXPECT_EQ(builtin_genotype("DARTS_V2").steps(), 4);
  EXPECT_EQ(builtin_genotype("darts-v1").normal[0], (GenotypeEdge{"sep_conv_3x3", 1}));
  EXPECT_EQ(builtin_genotype("NASNet-A").steps(), 5);
  EXPECT_EQ(builtin_genotype("AmoebaNet").reduce[8], (GenotypeEdge{"conv_7x1_1x7", 0}));
  EXPECT_EQ(builtin_genotype("ENAS").reduce_concat, (std::vector<int>{2, 3, 6}));
  EXPECT_EQ(builtin_genotype("PC-DARTS").reduce[3], (GenotypeEdge{"sep_conv_5x5", 2}));
}

TEST(Genotype, ClearErrors) {
  EXPECT_NE(error_of([] { builtin_genotype("DARTS_V9"); }).find("DARTS_V2"), std::string::npos);
  const std::string unknown = error_of([] {
    Genotype::parse_text(
        "Genotype(normal=[('conv_9x9', 0), ('skip_connect', 1)], normal_concat=[2], "
        "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])");
  });
  EXPECT_NE(unknown.find("unknown op 'conv_9x9'"), std::string::npos) << unknown;
  const std::string bad_index = error_of([] {
    Genotype::parse_text(
        "Genotype(normal=[('skip_connect', 0), ('skip_connect', 2)], normal_concat=[2], "
        "reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])");
  });
  EXPECT_NE(bad_index.find("reads state 2"), std::string::npos) << bad_index;
  const std::string malformed =
      error_of([] { Genotype::parse_text("Genotype(normal=[('skip_connect', 0)"); });
  EXPECT_NE(malformed.find("malformed genotype text"), std::string::npos) << malformed;
  const std::string missing = error_of([] {
    Genotype::parse_text(
        "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2])");
  });
  EXPECT_NE(missing.find("missing field 'reduce'"), std::string::npos) << missing;
  EXPECT_NE(
      error_of([] { Genotype::from_json("{\"normal\": 3}"); }).find("malformed genotype JSON"),
      std::string::npos);
}

TEST(Genotype, LoadsFilesInEitherForm) {
  const auto dir = std::filesystem::temp_directory_path() / "fusenas-genotype-test";
  std::filesystem::create_directories(dir);
  const Genotype g = builtin_genotype("DARTS_V2");
  std::ofstream(dir / "g.json") << g.to_json();
  std::ofstream(dir / "g.txt") << g.to_text() << "\n";
  std::ofstream(dir / "bad.txt") << "Genotype(";
  EXPECT_EQ(load_genotype_file((dir / "g.json").string()), g);
  EXPECT_EQ(load_genotype_file((dir / "g.txt").string()), g);
  EXPECT_NE(error_of([&] { load_genotype_file((dir / "bad.txt").string()); }).find("bad.txt"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { load_genotype_file((dir / "missing.txt").string()); }).find("cannot open"),
      std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fusenas::nas
