// Pictures of a search: the derived cells as Graphviz DOT (rendered to SVG/PNG when `dot` is
// installed) and the alphas over the epochs as SVG heatmaps.
#pragma once

#include <string>
#include <vector>

#include "fusenas/nas/genotype.h"

namespace fusenas::nas {

// A cell as a DOT digraph: inputs c_{k-2}, c_{k-1}, the nodes, and c_{k} (the concat).
std::string cell_to_dot(const std::vector<GenotypeEdge>& edges, const std::vector<int>& concat,
                        const std::string& title);
// Renders `dot_file` to <stem>.svg and <stem>.png; false (and nothing written) without `dot`.
bool render_dot(const std::string& dot_file);

// history[epoch][edge][op]: one panel per edge with ops as rows and epochs as columns, shaded by
// the softmax weight, so the drift of every edge over the search is visible at once.
std::string alpha_heatmap_svg(const std::vector<std::vector<std::vector<double>>>& history,
                              const std::vector<std::string>& ops, int nodes,
                              const std::string& title);

}  // namespace fusenas::nas
