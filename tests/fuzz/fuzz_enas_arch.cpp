// Fuzz target: the ENAS architecture strings (MicroArch::from_json, MacroArch::from_json and
// MacroArch::from_enas_string), then every output form and the round trips of what they accept.
// The first byte picks the parser: even micro JSON, 1 mod 4 macro JSON, 3 mod 4 an ENAS arc.
#include <nlohmann/json.hpp>

#include "fusenas/nas/enas/arch.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  return {
      "n{\"normal\": [[0, \"sep_conv_3x3\", 1, \"identity\"], [2, \"avg_pool_3x3\", 0, "
      "\"max_pool_3x3\"]], \"reduce\": [[1, \"sep_conv_5x5\", 0, \"identity\"], [0, "
      "\"max_pool_3x3\", 2, \"sep_conv_3x3\"]]}",
      "M{\"layers\": [{\"op\": \"conv_3x3\", \"skips\": []}, {\"op\": \"sep_conv_5x5\", \"skips\": "
      "[1]}, {\"op\": \"max_pool_3x3\", \"skips\": [0, true]}, {\"op\": \"avg_pool_3x3\", "
      "\"skips\": [false, 1, 0]}]}",
      "S3 5 1 0 0 1 4 1 1 0"};
}

std::vector<std::string> dictionary() {
  return {"\"normal\"",
          "\"reduce\"",
          "\"layers\"",
          "\"op\"",
          "\"skips\"",
          "\"sep_conv_3x3\"",
          "\"sep_conv_5x5\"",
          "\"avg_pool_3x3\"",
          "\"max_pool_3x3\"",
          "\"identity\"",
          "\"conv_3x3\"",
          "\"conv_5x5\"",
          "true",
          "false",
          "null",
          "1.0",
          "4294967298",
          "-2147483649",
          "[0, \"identity\", 1, \"identity\"]"};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  namespace enas = fusenas::nas::enas;
  if (size < 1) return 0;
  const std::string json(as_view(data + 1, size - 1));
  if ((data[0] & 3) == 3) {
    // ENAS's own arc strings (fixed_arc), read and written back.
    return run_parser([&] {
      const enas::MacroArch a = enas::MacroArch::from_enas_string(json);
      expect(enas::MacroArch::from_enas_string(a.to_enas_string()) == a,
             "the ENAS arc string round-trips");
    });
  }
  if (data[0] & 1) {
    return run_parser([&] {
      const enas::MacroArch a = enas::MacroArch::from_json(json);
      expect(enas::MacroArch::from_json(a.to_json()) == a, "the macro JSON form round-trips");
      expect(!a.to_text().empty() && !a.to_dot().empty() && !a.to_enas_string().empty(),
             "a macro arch prints");
      expect(a.num_skips() >= 0, "the skip count is not negative");
    });
  }
  return run_parser([&] {
    const enas::MicroArch a = enas::MicroArch::from_json(json);
    // Accepted means taken as written: no index cast from 1.9, true or 4294967298.
    const auto in = nlohmann::json::parse(json), out = nlohmann::json::parse(a.to_json());
    expect(in.at("normal") == out.at("normal") && in.at("reduce") == out.at("reduce"),
           "an accepted micro arch keeps every value as written");
    expect(enas::MicroArch::from_json(a.to_json()) == a, "the micro JSON form round-trips");
    expect(!a.to_text().empty() && !a.to_enas_string().empty(), "a micro arch prints");
    // A valid micro arch is a valid genotype and comes back from it unchanged.
    expect(enas::micro_arch_from_genotype(enas::to_genotype(a)) == a,
           "the genotype conversion round-trips");
  });
}
