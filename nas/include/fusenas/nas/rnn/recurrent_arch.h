// A recurrent cell of any of the three families (DARTS genotype, ENAS cell, Zoph & Le tree cell)
// as one value: the built-in cells by name, any cell file read with its family detected, and the
// cell module built from it.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "fusenas/engine/generator.h"
#include "fusenas/nas/rnn/darts_recurrent_cell.h"
#include "fusenas/nas/rnn/enas_recurrent.h"
#include "fusenas/nas/rnn/tree_cell.h"

namespace fusenas::nas::rnn {

enum class RecurrentFamily { kDarts, kEnas, kTree };

// "darts", "enas", "tree".
const char* family_name(RecurrentFamily family);

// One cell: its family and its JSON form (docs/formats.md, "Recurrent cells").
struct RecurrentArch {
  RecurrentFamily family = RecurrentFamily::kDarts;
  std::string json;

  // One line: the family and the cell's compact form (DARTS text, ENAS arc string, tree JSON).
  std::string describe() const;
  friend bool operator==(const RecurrentArch&, const RecurrentArch&) = default;
};

// DARTS_V1, DARTS_V2, ENAS (its PTB cell), ZOPH_LE (the published NAS cell) and LECTURE (the
// lecture's base-2 tree); throws fusenas::Error naming them for any other name.
RecurrentArch builtin_recurrent_arch(const std::string& name);
inline constexpr const char* kBuiltinRecurrentCells = "DARTS_V1, DARTS_V2, ENAS, ZOPH_LE, LECTURE";

// A cell file's text in any form of docs/formats.md: a JSON object with "recurrent" (DARTS),
// "nodes" of [input, activation] pairs (ENAS) or "base" (tree); DARTS's text form
// "Genotype(...)"; or ENAS's fixed-arc string of numbers. Throws fusenas::Error with the family's
// own message, or one that lists the forms when the text is none of them.
RecurrentArch parse_recurrent_arch(const std::string& text);

// A cell module of any family, or DARTS's search relaxation (whose alphas its RecurrentLm holds).
using RecurrentCell =
    std::variant<std::shared_ptr<DartsRecurrentCell>, std::shared_ptr<EnasRecurrentCell>,
                 std::shared_ptr<TreeCell>, std::shared_ptr<DartsRecurrentSearchCell>>;

// The cell module, input_size -> hidden_size, its weights drawn from `gen` by the family's rule.
RecurrentCell make_recurrent_cell(const RecurrentArch& arch, int64_t input_size,
                                  int64_t hidden_size, Generator& gen);

}  // namespace fusenas::nas::rnn
