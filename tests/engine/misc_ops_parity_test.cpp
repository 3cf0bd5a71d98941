// dropout and drop_path against PyTorch 1.13 (CPU), forward and backward: random ops have no case
// table, as torch needs the mask we drew as an extra input to compute x * mask / (1 - p) with it.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::ParityBatch;
using testing::ParityOptions;
using testing::random_float;

// The 0/1 mask a fresh Generator(seed) draws: where `op` keeps ones.
template <typename Op>
Tensor drawn_mask(Op op, const Shape& shape, double p, uint64_t seed) {
  Generator gen(seed);
  const Tensor kept = op(ones(shape), p, true, gen);
  std::vector<float> m = kept.to_vector<float>();
  for (float& v : m) v = v != 0.0f ? 1.0f : 0.0f;
  return from_vector(m, shape);
}

TEST(MiscOpsParity, DropoutAndDropPath) {
  ParityBatch batch;
  const ParityOptions only_x{1e-5, {true, false}};
  for (double p : {0.1, 0.5, 0.8}) {
    const Shape s{8, 6, 6, 5};
    const uint64_t seed = 100 + static_cast<uint64_t>(p * 10);
    batch.add(
        fmt::format("dropout p={}", p), "masked_scale", {{"p", p}},
        {random_float(s, 1), drawn_mask(dropout, s, p, seed)},
        [p, seed](const auto& x) {
          Generator gen(seed);
          return dropout(x[0], p, true, gen);
        },
        only_x);
    batch.add(
        fmt::format("drop_path p={}", p), "masked_scale", {{"p", p}},
        // One draw per sample, so a [8] input draws the same mask as the [8, 6, 6, 5] one.
        {random_float(s, 2), drawn_mask(drop_path, {8}, p, seed)},
        [p, seed](const auto& x) {
          Generator gen(seed);
          return drop_path(x[0], p, true, gen);
        },
        only_x);
  }
  batch.check();
}

}  // namespace
}  // namespace fusenas
