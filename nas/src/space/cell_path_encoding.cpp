// BANANAS's path encoding of DARTS cells.
#include "fusenas/nas/space/cell_path_encoding.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "fusenas/engine/error.h"

namespace fusenas::nas::space {
namespace {

// A path as (length, op sequence as a base-|ops| number).
using PathLabel = std::pair<int, int64_t>;

// sum_{L=1}^{max_length} k^L, or -1 past kMaxPathEncodingSize / 4 (checked before each product, so
// nothing overflows on the way).
int64_t paths_per_input(int64_t k, int max_length) {
  int64_t total = 0, of_length = 1;
  for (int length = 1; length <= max_length; ++length) {
    if (of_length > kMaxPathEncodingSize / k) return -1;
    of_length *= k;
    if (total + of_length > kMaxPathEncodingSize / 4) return -1;
    total += of_length;
  }
  return total;
}

}  // namespace

bool CellPathEncoding::fits(int64_t num_ops, int max_length) {
  return num_ops >= 1 && max_length >= 1 && paths_per_input(num_ops, max_length) >= 0;
}

CellPathEncoding::CellPathEncoding(std::vector<std::string> ops, int nodes, int max_length)
    : ops_(std::move(ops)), max_length_(max_length) {
  FUSENAS_CHECK(!ops_.empty(), "path encoding: no ops");
  FUSENAS_CHECK(max_length >= 1 && max_length <= nodes,
                "path encoding: max_length must lie in [1, {}] (the node count), got {}", nodes,
                max_length);
  const auto k = static_cast<int64_t>(ops_.size());
  FUSENAS_CHECK(fits(k, max_length),
                "path encoding: {} ops and paths of up to {} edges need more than {} entries; "
                "truncate with a smaller path_max_length",
                k, max_length, kMaxPathEncodingSize);
  length_offset_.assign(1, 0);
  int64_t paths_of_length = 1;
  for (int length = 1; length <= max_length; ++length) {
    paths_of_length *= k;
    length_offset_.push_back(per_input_);
    per_input_ += paths_of_length;
  }
}

std::vector<float> CellPathEncoding::encode(const Genotype& g) const {
  std::vector<float> bits(static_cast<size_t>(size()), 0.0f);
  const auto k = static_cast<int64_t>(ops_.size());
  const auto op_index = [&](const std::string& name) {
    const auto it = std::find(ops_.begin(), ops_.end(), name);
    FUSENAS_CHECK(it != ops_.end(), "path encoding: op '{}' is not one of the encoding's ops ({})",
                  name, fmt::join(ops_, ", "));
    return static_cast<int64_t>(it - ops_.begin());
  };
  const std::vector<GenotypeEdge>* cells[2] = {&g.normal, &g.reduce};
  const std::vector<int>* concats[2] = {&g.normal_concat, &g.reduce_concat};
  for (int cell = 0; cell < 2; ++cell) {
    const auto& edges = *cells[cell];
    const size_t states = 2 + edges.size() / 2;
    // paths[state][input]: the distinct labels of the paths from `input` into `state`. Sets of
    // labels, not lists of paths: the number of paths doubles with every node, labels are bounded.
    std::vector<std::vector<std::vector<PathLabel>>> paths(states,
                                                           std::vector<std::vector<PathLabel>>(2));
    paths[0][0] = {{0, 0}};
    paths[1][1] = {{0, 0}};
    for (size_t e = 0; e < edges.size(); ++e) {
      const size_t node = 2 + e / 2;
      const auto src = static_cast<size_t>(edges[e].input);
      FUSENAS_CHECK(src < node, "path encoding: edge {} reads state {}, not an earlier one", e,
                    src);
      const int64_t op = op_index(edges[e].op);
      for (int input = 0; input < 2; ++input) {
        auto& into = paths[node][static_cast<size_t>(input)];
        for (const auto& [length, code] : paths[src][static_cast<size_t>(input)]) {
          if (length < max_length_) into.push_back({length + 1, code * k + op});
        }
        if (e % 2 == 1) {
          std::sort(into.begin(), into.end());
          into.erase(std::unique(into.begin(), into.end()), into.end());
        }
      }
    }
    for (int state : *concats[cell]) {
      FUSENAS_CHECK(state >= 0 && static_cast<size_t>(state) < states,
                    "path encoding: concat names state {}, outside 0..{}", state, states - 1);
      for (int input = 0; input < 2; ++input) {
        const int64_t base = (2 * cell + input) * per_input_;
        for (const auto& [length, code] :
             paths[static_cast<size_t>(state)][static_cast<size_t>(input)]) {
          // The empty path (a concatenated cell input) has no edge, so no bit.
          if (length > 0) bits[static_cast<size_t>(base + length_offset_[length] + code)] = 1.0f;
        }
      }
    }
  }
  return bits;
}

std::string CellPathEncoding::describe(int64_t index) const {
  FUSENAS_CHECK(index >= 0 && index < size(), "path encoding: index {} outside [0, {})", index,
                size());
  const int64_t block = index / per_input_;
  int64_t rest = index % per_input_;
  int length = 1;
  while (length < max_length_ && rest >= length_offset_[length + 1]) ++length;
  rest -= length_offset_[length];
  std::vector<std::string> names(static_cast<size_t>(length));
  const auto k = static_cast<int64_t>(ops_.size());
  for (int i = length - 1; i >= 0; --i, rest /= k) names[static_cast<size_t>(i)] = ops_[rest % k];
  return fmt::format("{} cell, input {}: {}", block < 2 ? "normal" : "reduce", block % 2,
                     fmt::join(names, " -> "));
}

}  // namespace fusenas::nas::space
