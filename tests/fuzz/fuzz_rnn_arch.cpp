// Fuzz target: the recurrent cells' architecture forms (nas/rnn): TreeCellArch JSON, the DARTS
// recurrent genotype's text and JSON, and ENAS's recurrent arc string and JSON, each then printed
// and read back. The first byte picks the parser (mod 5, in that order).
#include "fusenas/nas/rnn/enas_recurrent.h"
#include "fusenas/nas/rnn/recurrent_genotype.h"
#include "fusenas/nas/rnn/tree_cell_arch.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  namespace rnn = fusenas::nas::rnn;
  return {std::string("\x00", 1) + rnn::zoph_le_ptb_tree_cell().to_json(),
          std::string("\x01", 1) + rnn::darts_v2_recurrent().to_text(),
          "\x01Genotype(recurrent=[('tanh', 0), ('relu', 1)], concat=[1, 2])",
          std::string("\x02", 1) + rnn::darts_v1_recurrent().to_json(),
          std::string("\x03", 1) + rnn::enas_ptb_recurrent_arch().to_enas_string(),
          std::string("\x04", 1) + rnn::enas_ptb_recurrent_arch().to_json()};
}

std::vector<std::string> dictionary() {
  return {"\"base\"", "\"nodes\"",     "\"inject\"", "\"cell_index\"", "\"index\"",
          "\"add\"",  "\"elem_mult\"", "\"tanh\"",   "\"relu\"",       "\"sigmoid\"",
          "'none'",   "'identity'",    "range(",     "concat=",        "recurrent=",
          "true",     "1.0",           "-1",         "4294967298",     "Genotype("};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  namespace rnn = fusenas::nas::rnn;
  if (size < 1) return 0;
  const std::string text(as_view(data + 1, size - 1));
  switch (data[0] % 5) {
    case 0:
      return run_parser([&] {
        const rnn::TreeCellArch a = rnn::TreeCellArch::from_json(text);
        expect(rnn::TreeCellArch::from_json(a.to_json()) == a, "the tree JSON round-trips");
      });
    case 1:
      return run_parser([&] {
        const rnn::RecurrentGenotype g = rnn::RecurrentGenotype::parse_text(text);
        expect(rnn::RecurrentGenotype::parse_text(g.to_text()) == g, "the text form round-trips");
        expect(rnn::RecurrentGenotype::from_json(g.to_json()) == g, "the JSON form round-trips");
      });
    case 2:
      return run_parser([&] {
        const rnn::RecurrentGenotype g = rnn::RecurrentGenotype::from_json(text);
        expect(rnn::RecurrentGenotype::from_json(g.to_json()) == g, "the JSON form round-trips");
      });
    case 3:
      return run_parser([&] {
        const rnn::EnasRecurrentArch a = rnn::EnasRecurrentArch::from_enas_string(text);
        expect(rnn::EnasRecurrentArch::from_enas_string(a.to_enas_string()) == a,
               "the arc string round-trips");
        expect(!a.loose_ends().empty(), "a cell has a loose end");
      });
    default:
      return run_parser([&] {
        const rnn::EnasRecurrentArch a = rnn::EnasRecurrentArch::from_json(text);
        expect(rnn::EnasRecurrentArch::from_json(a.to_json()) == a, "the JSON form round-trips");
      });
  }
}
