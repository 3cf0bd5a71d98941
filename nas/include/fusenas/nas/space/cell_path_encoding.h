// The path encoding of DARTS cells that BANANAS (White et al. 2021) feeds its neural predictors:
// one bit per labelled path from a cell input to the cell output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/genotype.h"

namespace fusenas::nas::space {

// The longest encoding accepted: 2^20 floats (4 MiB) per point already makes a surrogate's
// training set large; past it, truncate with max_length.
inline constexpr int64_t kMaxPathEncodingSize = int64_t{1} << 20;

// A path starts at cell input 0 or 1, follows 1..max_length edges through intermediate nodes and
// ends at a node the cell concatenates; it is labelled by its input and its op sequence (the
// nodes it passes are not part of the label, so two paths with the same label share one bit).
// Layout, normal cell first, then reduce; within a cell input 0, then input 1; within an input
// paths by length, then by op sequence read as a base-|ops| number (first op most significant).
// So size() = 4 * sum_{L=1}^{max_length} |ops|^L: 11,200 for 7 ops and 4 nodes untruncated.
class CellPathEncoding {
 public:
  // max_length in [1, nodes]; nodes itself keeps every path (a path visits each node at most
  // once). Throws fusenas::Error when the size would exceed kMaxPathEncodingSize.
  CellPathEncoding(std::vector<std::string> ops, int nodes, int max_length);

  // Whether an encoding of `num_ops` ops and paths of up to `max_length` edges stays within
  // kMaxPathEncodingSize.
  static bool fits(int64_t num_ops, int max_length);

  int64_t size() const { return 4 * per_input_; }
  int max_length() const { return max_length_; }
  // The genotype must use only the encoding's ops (throws otherwise); paths longer than
  // max_length are left out.
  std::vector<float> encode(const Genotype& g) const;
  // "reduce cell, input 1: sep_conv_3x3 -> skip_connect" for bit `index`.
  std::string describe(int64_t index) const;

 private:
  std::vector<std::string> ops_;
  int max_length_;
  std::vector<int64_t> length_offset_;  // [L]: bits of the paths shorter than L, within an input
  int64_t per_input_ = 0;
};

}  // namespace fusenas::nas::space
