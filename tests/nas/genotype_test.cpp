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
