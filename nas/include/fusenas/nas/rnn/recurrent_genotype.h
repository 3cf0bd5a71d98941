// RecurrentGenotype: a discrete DARTS recurrent cell (per node an activation and the state it
// reads, plus the states averaged at the output), its DARTS text and JSON forms and the built-in
// DARTS_V1 / DARTS_V2 cells.
#pragma once

#include <string>
#include <vector>

#include "fusenas/nas/rnn/activation.h"

namespace fusenas::nas::rnn {

// DARTS's recurrent cells have 8 nodes; this bounds a user's genotype, not the search.
inline constexpr int kMaxRecurrentSteps = 32;

// Node i (state i + 1) reads state `input` (0 = s_0, the cell's first highway state; 1.. = the
// earlier nodes) through the highway form with activation `op`.
struct RecurrentEdge {
  RnnActivation op = RnnActivation::kTanh;
  int input = 0;
  friend bool operator==(const RecurrentEdge&, const RecurrentEdge&) = default;
};

struct RecurrentGenotype {
  std::vector<RecurrentEdge> recurrent;
  std::vector<int> concat;  // the states whose mean is h_t

  int steps() const { return static_cast<int>(recurrent.size()); }
  // Throws fusenas::Error for no nodes or more than kMaxRecurrentSteps, an input that is not an
  // earlier state, an empty concat, or a concat entry repeated or outside the states 0..steps.
  void validate() const;

  // Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ...], concat=range(1, 9)): a contiguous
  // ascending concat prints as range(a, b), any other as a list.
  std::string to_text() const;
  // Accepts the form above (concat as range(a, b) or [i, j, ...]; either quote). 'none' is refused:
  // it exists only in the search space. Errors give the column.
  static RecurrentGenotype parse_text(const std::string& text);

  std::string to_json() const;  // {"recurrent": [["sigmoid", 0], ...], "concat": [1, ..., 8]}
  static RecurrentGenotype from_json(const std::string& json);

  friend bool operator==(const RecurrentGenotype&, const RecurrentGenotype&) = default;
};

// quark0/darts rnn/genotypes.py: DARTS_V1 (first order) and DARTS_V2 (second order, the paper's
// PTB cell, Figure 6 of Liu et al. 2019).
RecurrentGenotype darts_v1_recurrent();
RecurrentGenotype darts_v2_recurrent();
// "DARTS_V1", "DARTS_V2" or "DARTS" (= DARTS_V2, as the reference); throws naming the known ones.
RecurrentGenotype builtin_recurrent_genotype(const std::string& name);

}  // namespace fusenas::nas::rnn
