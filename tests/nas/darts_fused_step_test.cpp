// Whole DARTS search steps (architect step, then weight step) with the fused cells against the
// same steps with the composed cells, from the same weights, alphas and batches, in float64 over
// three steps and both orders: losses, alphas, every weight and every running statistic.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/nas/darts/search_step.h"
#include "support/darts_search_side.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

using testing::make_search_side;
using testing::SearchSide;

SearchSide make_side(int order, bool fused) {
  SearchSpace space;
  space.channels = 4;
  space.cells = 5;  // two reduction cells, and cells after each
  space.in_channels = 3;
  space.image_size = 8;
  return make_search_side(space, {.order = order, .fused = fused, .seed = 5, .architect = {}});
}

class DartsFusedStep : public ::testing::TestWithParam<int> {};

TEST_P(DartsFusedStep, ThreeStepsEqualTheComposedCells) {
  const int order = GetParam();
  SearchSide fused = make_side(order, true), composed = make_side(order, false);
  ASSERT_TRUE(fused.net->fused());
  ASSERT_FALSE(composed.net->fused());
  Generator gen(6);
  for (int step = 0; step < 3; ++step) {
    const Tensor xt = normal({3, 8, 8, 3}, 0, 1, gen).to(DType::Float64);
    const Tensor xv = normal({3, 8, 8, 3}, 0, 1, gen).to(DType::Float64);
    const Tensor yt = randint({3}, 0, 10, gen), yv = randint({3}, 0, 10, gen);
    const SearchStepResult a =
        darts_search_step(*fused.net, *fused.architect, *fused.sgd, 5.0, xt, yt, xv, yv);
    const SearchStepResult b =
        darts_search_step(*composed.net, *composed.architect, *composed.sgd, 5.0, xt, yt, xv, yv);
    EXPECT_NEAR(a.train_loss.item(), b.train_loss.item(), 1e-10 * std::abs(b.train_loss.item()))
        << "step " << step;
    EXPECT_NEAR(a.val_loss.item(), b.val_loss.item(), 1e-10 * std::abs(b.val_loss.item()))
        << "step " << step;
  }
  // The second order's finite-difference Hessian product divides rounding by its eps.
  const double tol = order == 1 ? 1e-9 : 1e-7;
  testing::expect_sides_match(fused, composed, tol);
}

INSTANTIATE_TEST_SUITE_P(Order, DartsFusedStep, ::testing::Values(1, 2),
                         [](const auto& info) { return "Order" + std::to_string(info.param); });

}  // namespace
}  // namespace fusenas::nas
