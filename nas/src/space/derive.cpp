// DARTS genotype derivation.
#include "fusenas/nas/space/derive.h"

#include <algorithm>
#include <numeric>

#include "fusenas/engine/error.h"

namespace fusenas::nas {

std::vector<GenotypeEdge> derive_cell(const SearchSpace& space,
                                      const std::vector<std::vector<double>>& weights) {
  FUSENAS_CHECK(static_cast<int>(weights.size()) == space.num_edges(),
                "derive: expected {} edges of weights, got {}", space.num_edges(), weights.size());
  const int none = space.op_index("none");
  auto best_op = [&](int e) {
    int best = -1;
    for (int k = 0; k < space.num_ops(); ++k) {
      if (k == none) continue;
      if (best < 0 || weights[e][k] > weights[e][best]) best = k;
    }
    return best;
  };
  std::vector<GenotypeEdge> edges;
  for (int node = 0; node < space.nodes; ++node) {
    std::vector<int> inputs(node + 2);
    std::iota(inputs.begin(), inputs.end(), 0);
    for (int j : inputs) {
      FUSENAS_CHECK(static_cast<int>(weights[space.edge_index(node, j)].size()) == space.num_ops(),
                    "derive: edge {} has {} weights, expected {}", space.edge_index(node, j),
                    weights[space.edge_index(node, j)].size(), space.num_ops());
    }
    std::stable_sort(inputs.begin(), inputs.end(), [&](int a, int b) {
      const int ea = space.edge_index(node, a), eb = space.edge_index(node, b);
      return weights[ea][best_op(ea)] > weights[eb][best_op(eb)];
    });
    for (int k = 0; k < 2; ++k) {
      // Node 0 has exactly the two cell inputs; later nodes choose among more.
      const int j = inputs[k];
      edges.push_back({space.ops[best_op(space.edge_index(node, j))], j});
    }
  }
  return edges;
}

Genotype derive_genotype(const SearchSpace& space, const std::vector<std::vector<double>>& normal,
                         const std::vector<std::vector<double>>& reduce) {
  Genotype g;
  g.normal = derive_cell(space, normal);
  g.reduce = derive_cell(space, reduce);
  for (int i = 0; i < space.nodes; ++i) {
    g.normal_concat.push_back(i + 2);
    g.reduce_concat.push_back(i + 2);
  }
  return g;
}

}  // namespace fusenas::nas
