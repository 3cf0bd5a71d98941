// Genotype derivation from the alphas, as in the DARTS paper.
#pragma once

#include <vector>

#include "fusenas/nas/genotype.h"
#include "fusenas/nas/space/search_space.h"

namespace fusenas::nas {

// weights[edge][op] (softmax of one cell type's alphas). For each node keep the 2 incoming edges
// whose strongest op other than `none` weighs most, each with that op. Ties go to the earlier
// edge and the earlier op; the stronger edge is listed first.
std::vector<GenotypeEdge> derive_cell(const SearchSpace& space,
                                      const std::vector<std::vector<double>>& weights);
Genotype derive_genotype(const SearchSpace& space, const std::vector<std::vector<double>>& normal,
                         const std::vector<std::vector<double>>& reduce);

}  // namespace fusenas::nas
