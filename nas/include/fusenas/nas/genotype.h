// Genotype: a discrete DARTS-style architecture (normal and reduction cells), its JSON and DARTS
// text forms, and the built-in published cells.
#pragma once

#include <string>
#include <vector>

namespace fusenas::nas {

// One chosen edge: operation `op` applied to state `input` (0, 1 = the cell inputs; 2.. = nodes).
struct GenotypeEdge {
  std::string op;
  int input = 0;
  friend bool operator==(const GenotypeEdge&, const GenotypeEdge&) = default;
};

// Intermediate node i of a cell sums edges 2i and 2i+1; the cell outputs the concat of `*_concat`.
struct Genotype {
  std::vector<GenotypeEdge> normal;
  std::vector<int> normal_concat;
  std::vector<GenotypeEdge> reduce;
  std::vector<int> reduce_concat;

  // Intermediate nodes per cell (edges / 2).
  int steps() const { return static_cast<int>(normal.size() / 2); }
  // Throws fusenas::Error for an unknown op, an odd edge count, a bad input index or concat.
  void validate() const;

  // DARTS text form: Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)
  std::string to_text() const;
  // Accepts the text form above, including range(a, b) concats and nested [[(..), (..)], ...]
  // pairs.
  static Genotype parse_text(const std::string& text);

  std::string to_json() const;  // {"normal": [["op", i], ...], "normal_concat": [...], ...}
  static Genotype from_json(const std::string& json);

  friend bool operator==(const Genotype&, const Genotype&) = default;
};

// Reads a genotype from a .json file or a file holding the text form (detected by content).
Genotype load_genotype_file(const std::string& path);

// Published cells: DARTS_V1, DARTS_V2, NASNet, AmoebaNet, ENAS, PC_DARTS (case-insensitive,
// '-' and '_' interchangeable). Throws naming the known cells for an unknown name.
Genotype builtin_genotype(const std::string& name);
std::vector<std::string> builtin_genotype_names();

}  // namespace fusenas::nas
