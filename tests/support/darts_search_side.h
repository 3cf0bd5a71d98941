// A Supernet with its weight SGD and architect, ready for darts_search_step: one side of a
// comparison of two search runs (fused against composed cells, CUDA against the CPU).
#pragma once

#include <cstdint>
#include <memory>

#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/darts/architect.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::testing {

struct SearchSide {
  std::shared_ptr<nas::Supernet> net;
  std::unique_ptr<optim::SGD> sgd;
  std::unique_ptr<nas::Architect> architect;
};

struct SearchSideOptions {
  int order = 1;
  DType dtype = DType::Float64;
  Device device = Device::cpu();
  bool fused = true;
  uint64_t seed = 0;               // weights and alphas: equal seeds give equal starting points
  nas::ArchitectConfig architect;  // its order is replaced by `order`
};

// DARTS's weight SGD (lr 0.025, momentum 0.9, weight decay 3e-4) over the supernet's weights.
SearchSide make_search_side(const nas::SearchSpace& space, const SearchSideOptions& options);

// gtest EXPECTs that both alphas, every weight and every floating buffer (BN running statistics)
// of `got` lie within relative `tol` of `want`'s, on whatever devices they live.
void expect_sides_match(const SearchSide& got, const SearchSide& want, double tol);

}  // namespace fusenas::testing
