// The DARTS cell search space: candidate ops, nodes per cell, cells, channels and input geometry.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fusenas::nas {

struct SearchSpace {
  std::vector<std::string> ops;  // candidates of every edge; default: the 8 DARTS primitives
  int nodes = 4;                 // intermediate nodes per cell
  int cells = 8;                 // reductions at cells/3 and 2*cells/3
  int64_t channels = 16;         // C of the first cells
  int64_t stem_multiplier = 3;
  int64_t in_channels = 3;
  int64_t image_size = 32;
  int64_t num_classes = 10;

  SearchSpace();
  // Node i has inputs 0 .. i+1 (the two cell inputs and earlier nodes): nodes*(nodes+3)/2 edges.
  int num_edges() const { return nodes * (nodes + 3) / 2; }
  int num_ops() const { return static_cast<int>(ops.size()); }
  // Index of edge (node, input) in the alpha matrices.
  int edge_index(int node, int input) const { return node * (node + 3) / 2 + input; }
  int op_index(const std::string& name) const;  // -1 when absent
  bool is_reduction(int cell) const { return cell == cells / 3 || cell == 2 * cells / 3; }
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
};

nlohmann::json to_json(const SearchSpace& s);
SearchSpace search_space_from_json(const nlohmann::json& j);

}  // namespace fusenas::nas
