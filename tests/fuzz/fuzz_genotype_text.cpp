// Fuzz target: the DARTS text form of a genotype (Genotype::parse_text), then the validator and
// the text and JSON round trips of what it accepts.
#include "fusenas/nas/genotype.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  std::vector<std::string> s;
  for (const auto& name : nas::builtin_genotype_names())
    s.push_back(nas::builtin_genotype(name).to_text());
  s.push_back(
      "Genotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], [('max_pool_3x3', 2), "
      "('dil_conv_5x5', 0)]], normal_concat=range(2, 4), reduce=[('avg_pool_3x3', 0), "
      "('none', 1), ('sep_conv_5x5', 2), ('dil_conv_3x3', 1)], reduce_concat=[2, 3])");
  return s;
}

std::vector<std::string> dictionary() {
  return {"Genotype(",
          "normal=",
          "normal_concat=",
          "reduce=",
          "reduce_concat=",
          "range(",
          "[",
          "]",
          "(",
          ")",
          "'",
          "\"",
          ", ",
          "sep_conv_3x3",
          "dil_conv_5x5",
          "none",
          "skip_connect",
          "max_pool_3x3",
          "avg_pool_3x3",
          "[('sep_conv_3x3', 0), "};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  const std::string text(as_view(data, size));
  return run_parser([&] {
    const fusenas::nas::Genotype g = fusenas::nas::Genotype::parse_text(text);
    g.validate();
    expect(fusenas::nas::Genotype::parse_text(g.to_text()) == g, "the text form round-trips");
    expect(fusenas::nas::Genotype::from_json(g.to_json()) == g, "the JSON form round-trips");
  });
}
