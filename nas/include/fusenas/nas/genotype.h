// Genotype: a discrete DARTS-style architecture (normal and reduction cells), its JSON and DARTS
// text forms, and the built-in published cells.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fusenas::nas {

// Limits every genotype keeps; validate() and both parsers enforce them (docs/formats.md).
// Published cells have 4 or 5 intermediate nodes. A node sums two edges, so a chain of
// skip_connects doubles the values at every node: 32 nodes keep them below 2^32 times the cell's
// inputs, and their squares (the next cell's batch-norm variance) far inside float range; 64
// nodes would allow 2^64, whose square overflows float, and a chain of 2,000 trained on NaN.
inline constexpr int kMaxGenotypeNodes = 32;
// A concat names states, a cell has 2 + nodes of them.
inline constexpr int kMaxGenotypeConcat = kMaxGenotypeNodes + 2;
// Integers in either form. Any index beyond this can name no state, and range(a, b) arithmetic
// stays far from int overflow.
inline constexpr int kMaxGenotypeInteger = 1000;
// Text or JSON: a 32-node genotype prints in about 5 KB.
inline constexpr size_t kMaxGenotypeTextBytes = 64 * 1024;
// Brackets inside a cell's edge list: DARTS prints one level, nested pairs use two.
inline constexpr int kMaxGenotypeNesting = 4;

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

  // Intermediate nodes of the normal cell (edges / 2); the reduce cell may have another count.
  int steps() const { return static_cast<int>(normal.size() / 2); }
  // Accepts exactly the genotypes whose evaluation network builds and runs (within the limits
  // above). Throws fusenas::Error naming the cell and the rule: an unknown op, an odd edge count,
  // an input that is not an earlier state, a concat outside the states, or a reduction cell
  // concatenating a cell input (kept at the input's resolution).
  void validate() const;

  // DARTS text form: Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], ...)
  std::string to_text() const;
  // Accepts the text form above, including range(a, b) concats and nested [[(..), (..)], ...]
  // pairs. Errors give the line and column.
  static Genotype parse_text(const std::string& text);

  std::string to_json() const;  // {"normal": [["op", i], ...], "normal_concat": [...], ...}
  static Genotype from_json(const std::string& json);

  friend bool operator==(const Genotype&, const Genotype&) = default;
};

// Reads a genotype from a .json file or a file holding the text form (detected by content);
// errors name the file.
Genotype load_genotype_file(const std::string& path);

// Published cells: DARTS_V1, DARTS_V2, NASNet, AmoebaNet, ENAS, PC_DARTS (case-insensitive,
// '-' and '_' interchangeable). Throws naming the known cells for an unknown name.
Genotype builtin_genotype(const std::string& name);
std::vector<std::string> builtin_genotype_names();

}  // namespace fusenas::nas
