// RecurrentArch: the built-in cells, the family detection of a cell file and the cell factory.
#include "fusenas/nas/rnn/recurrent_arch.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>

#include "fusenas/engine/error.h"
#include "fusenas/nas/rnn/recurrent_genotype.h"
#include "fusenas/nas/rnn/tree_cell_arch.h"

namespace fusenas::nas::rnn {
namespace {

std::string trimmed(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// Each family's own reader validates; a JSON form is stored re-serialised, so equal cells compare
// equal whatever their spacing.
RecurrentArch darts(const RecurrentGenotype& g) {
  return {RecurrentFamily::kDarts, g.to_json()};
}
RecurrentArch enas(const EnasRecurrentArch& a) {
  return {RecurrentFamily::kEnas, a.to_json()};
}
RecurrentArch tree(const TreeCellArch& a) {
  return {RecurrentFamily::kTree, a.to_json()};
}

}  // namespace

const char* family_name(RecurrentFamily family) {
  switch (family) {
    case RecurrentFamily::kDarts:
      return "darts";
    case RecurrentFamily::kEnas:
      return "enas";
    case RecurrentFamily::kTree:
      return "tree";
  }
  return "?";
}

std::string RecurrentArch::describe() const {
  switch (family) {
    case RecurrentFamily::kDarts:
      return "DARTS cell " + RecurrentGenotype::from_json(json).to_text();
    case RecurrentFamily::kEnas:
      return "ENAS cell \"" + EnasRecurrentArch::from_json(json).to_enas_string() + "\"";
    case RecurrentFamily::kTree:
      return "tree cell " + json;
  }
  return json;
}

RecurrentArch builtin_recurrent_arch(const std::string& name) {
  if (name == "DARTS_V1" || name == "DARTS_V2") return darts(builtin_recurrent_genotype(name));
  if (name == "ENAS") return enas(enas_ptb_recurrent_arch());
  if (name == "ZOPH_LE") return tree(zoph_le_ptb_tree_cell());
  if (name == "LECTURE") return tree(lecture_tree_cell());
  FUSENAS_FAIL("unknown recurrent cell '{}' (built-in: {})", name, kBuiltinRecurrentCells);
}

RecurrentArch parse_recurrent_arch(const std::string& text) {
  const std::string t = trimmed(text);
  FUSENAS_CHECK(!t.empty(), "the recurrent cell is empty");
  if (t.front() == '{') {
    const auto j = nlohmann::json::parse(t, nullptr, /*allow_exceptions=*/false);
    FUSENAS_CHECK(j.is_object(), "the recurrent cell is not valid JSON");
    if (j.contains("recurrent")) return darts(RecurrentGenotype::from_json(t));
    if (j.contains("base")) return tree(TreeCellArch::from_json(t));
    if (j.contains("nodes")) return enas(EnasRecurrentArch::from_json(t));
    FUSENAS_FAIL(
        "the recurrent cell's JSON has none of \"recurrent\" (DARTS), \"nodes\" (ENAS) or "
        "\"base\" (tree cell)");
  }
  if (t.rfind("Genotype", 0) == 0) return darts(RecurrentGenotype::parse_text(t));
  if (std::isdigit(static_cast<unsigned char>(t.front())))
    return enas(EnasRecurrentArch::from_enas_string(t));
  FUSENAS_FAIL(
      "the recurrent cell is none of the known forms: a JSON object (DARTS, ENAS or tree cell), "
      "DARTS's Genotype(...) text or ENAS's arc string of numbers");
}

RecurrentCell make_recurrent_cell(const RecurrentArch& arch, int64_t input_size,
                                  int64_t hidden_size, Generator& gen) {
  switch (arch.family) {
    case RecurrentFamily::kDarts:
      return std::make_shared<DartsRecurrentCell>(RecurrentGenotype::from_json(arch.json),
                                                  input_size, hidden_size, gen);
    case RecurrentFamily::kEnas:
      return std::make_shared<EnasRecurrentCell>(EnasRecurrentArch::from_json(arch.json),
                                                 input_size, hidden_size, gen);
    case RecurrentFamily::kTree:
      return std::make_shared<TreeCell>(TreeCellArch::from_json(arch.json), input_size, hidden_size,
                                        gen);
  }
  FUSENAS_FAIL("unknown recurrent cell family");
}

}  // namespace fusenas::nas::rnn
