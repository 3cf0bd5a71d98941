// Fuzz target: the JSON form of a genotype (Genotype::from_json), then the validator and the
// JSON and text round trips of what it accepts.
#include "fusenas/nas/genotype.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  std::vector<std::string> s;
  for (const auto& name : nas::builtin_genotype_names())
    s.push_back(nas::builtin_genotype(name).to_json());
  return s;
}

std::vector<std::string> dictionary() {
  return {"\"normal\"",
          "\"normal_concat\"",
          "\"reduce\"",
          "\"reduce_concat\"",
          "[",
          "]",
          "{",
          "}",
          ":",
          ",",
          "\"sep_conv_3x3\"",
          "\"none\"",
          "true",
          "null",
          "1.9",
          "4294967296",
          "-1",
          "[\"skip_connect\", 0]"};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  const std::string text(as_view(data, size));
  return run_parser([&] {
    const fusenas::nas::Genotype g = fusenas::nas::Genotype::from_json(text);
    g.validate();
    expect(fusenas::nas::Genotype::from_json(g.to_json()) == g, "the JSON form round-trips");
    expect(fusenas::nas::Genotype::parse_text(g.to_text()) == g, "the text form round-trips");
  });
}
