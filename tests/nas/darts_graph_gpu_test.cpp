// DARTS search steps replayed from CUDA graphs (GraphedStep, as nas_darts runs them on CUDA)
// against the same steps run eagerly: a warm-up phase without the architect, then architect
// steps, with the weight lr changing between "epochs" as the cosine schedule changes it and
// Adam's real betas, so the device-side lr and bias corrections are exercised. In float64 any gap
// beyond rounding would be a logic error: a host scalar baked into the graph, an input or output
// read at the wrong time.
#include <gtest/gtest.h>

#include <array>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/nas/darts/search_step.h"
#include "fusenas/nas/run/graphed_step.h"
#include "support/darts_search_side.h"
#include "support/gpu_compare.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

using testing::SearchSide;

SearchSpace small_space() {
  SearchSpace space;
  space.channels = 8;
  space.cells = 3;
  space.in_channels = 3;
  space.image_size = 8;
  return space;
}

class DartsGraphReplay : public ::testing::TestWithParam<int> {};

TEST_P(DartsGraphReplay, ReplayedStepsEqualEagerStepsAcrossLrChanges) {
  FUSENAS_REQUIRE_GPU();
  const int order = GetParam();
  const testing::SearchSideOptions so{.order = order,
                                      .dtype = DType::Float64,
                                      .device = Device::cuda(),
                                      .seed = 5,
                                      .architect = {}};
  SearchSide eager = testing::make_search_side(small_space(), so);
  SearchSide graphed = testing::make_search_side(small_space(), so);
  graphed.sgd->keep_scalars_on_device();
  graphed.architect->optimizer().keep_scalars_on_device();
  GraphedStep graphs(Device::cuda());

  const auto f64 = TensorOptions{}.with_dtype(DType::Float64);
  const auto i64 = TensorOptions{}.with_dtype(DType::Int64);
  Generator gen(9);
  // (update the alphas?, lr before the step): a warm-up of weight steps only, then architect
  // steps over two "epochs" with the lr lowered between them.
  const std::vector<std::pair<bool, double>> plan = {{false, 0.025}, {false, 0.025}, {true, 0.025},
                                                     {true, 0.025},  {true, 0.025},  {true, 0.02},
                                                     {true, 0.02}};
  for (size_t s = 0; s < plan.size(); ++s) {
    const auto [update_alphas, lr] = plan[s];
    if (lr != graphed.sgd->lr()) {
      eager.sgd->set_lr(lr);
      graphed.sgd->set_lr(lr);
      // Second order bakes the lr in as xi: its graphs are captured afresh, as nas_darts does.
      if (order == 2) graphs.clear();
    }
    const std::array<Tensor, 4> b = {
        normal({2, 8, 8, 3}, 0, 1, gen, f64), randint({2}, 0, 10, gen, i64),
        normal({2, 8, 8, 3}, 0, 1, gen, f64), randint({2}, 0, 10, gen, i64)};
    const SearchStepResult want = darts_search_step(
        *eager.net, *eager.architect, *eager.sgd, 5.0, b[0].to(Device::cuda()),
        b[1].to(Device::cuda()), b[2].to(Device::cuda()), b[3].to(Device::cuda()), update_alphas);
    const std::vector<Tensor> got = graphs.run(
        {b[0], b[1], b[2], b[3]}, update_alphas ? 1 : 0, [&](const std::vector<Tensor>& in) {
          const SearchStepResult r =
              darts_search_step(*graphed.net, *graphed.architect, *graphed.sgd, 5.0, in[0], in[1],
                                in[2], in[3], update_alphas);
          return std::vector<Tensor>{r.train_loss, r.logits, r.val_loss};
        });
    const double want_loss = want.train_loss.item();
    EXPECT_NEAR(got[0].item(), want_loss, 1e-10 * std::abs(want_loss)) << "step " << s;
    EXPECT_LE(testing::max_relative_error(got[1].to(Device::cpu()), want.logits.to(Device::cpu())),
              1e-10)
        << "step " << s;
    EXPECT_EQ(got[2].defined(), update_alphas) << "step " << s;
    if (update_alphas) {
      EXPECT_NEAR(got[2].item(), want.val_loss.item(), 1e-10 * std::abs(want.val_loss.item()))
          << "step " << s;
    }
  }
  // First order: per variant one eager step and one capture, then replays (3 of the 5 architect
  // steps). Second order recaptures after the lr change: 1 replay before it, 0 after.
  EXPECT_EQ(graphs.captures(), order == 1 ? 2 : 3);
  EXPECT_EQ(graphs.replays(), order == 1 ? 3 : 1);

  testing::expect_sides_match(graphed, eager, 1e-10);
  EXPECT_EQ(graphed.architect->optimizer().state_dict().scalars.at("0.step"), 5.0);
}

INSTANTIATE_TEST_SUITE_P(Order, DartsGraphReplay, ::testing::Values(1, 2),
                         [](const auto& info) { return "Order" + std::to_string(info.param); });

}  // namespace
}  // namespace fusenas::nas
