// One DARTS search step (first and second order) on CUDA against the same step on the CPU, from
// the same weights, alphas and batches: losses, alphas and weights within fp32 tolerance.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/nas/darts/search_step.h"
#include "support/gpu_compare.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

struct Side {
  std::shared_ptr<Supernet> net;
  std::unique_ptr<optim::SGD> sgd;
  std::unique_ptr<Architect> architect;
};

Side make_side(const SearchSpace& space, int order) {
  Side s;
  Generator gen(21);
  s.net = std::make_shared<Supernet>(space, gen);
  s.sgd = std::make_unique<optim::SGD>(s.net->parameters(), 0.025, 0.9, 3e-4);
  ArchitectConfig ac;
  ac.order = order;
  s.architect = std::make_unique<Architect>(*s.net, *s.sgd, ac);
  return s;
}

class DartsGpu : public ::testing::TestWithParam<int> {};

TEST_P(DartsGpu, SearchStepMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  SearchSpace space;
  space.channels = 8;
  space.cells = 5;
  space.in_channels = 3;
  space.image_size = 16;
  Side cpu = make_side(space, GetParam());
  Side gpu = make_side(space, GetParam());
  gpu.net->to_device(Device::cuda());
  Generator gen(4);
  for (int step = 0; step < 2; ++step) {
    const Tensor xt = normal({8, 16, 16, 3}, 0, 1, gen), xv = normal({8, 16, 16, 3}, 0, 1, gen);
    const Tensor yt = randint({8}, 0, 10, gen), yv = randint({8}, 0, 10, gen);
    const SearchStepResult a =
        darts_search_step(*cpu.net, *cpu.architect, *cpu.sgd, 5.0, xt, yt, xv, yv);
    const SearchStepResult b =
        darts_search_step(*gpu.net, *gpu.architect, *gpu.sgd, 5.0, xt.to(Device::cuda()),
                          yt.to(Device::cuda()), xv.to(Device::cuda()), yv.to(Device::cuda()));
    EXPECT_NEAR(a.train_loss, b.train_loss, 1e-4 * std::abs(a.train_loss)) << "step " << step;
    EXPECT_NEAR(a.val_loss, b.val_loss, 1e-4 * std::abs(a.val_loss)) << "step " << step;
  }
  const double tol = GetParam() == 1 ? 1e-4 : 1e-3;
  EXPECT_LE(
      testing::max_relative_error(gpu.net->arch().normal.to(Device::cpu()), cpu.net->arch().normal),
      tol);
  EXPECT_LE(
      testing::max_relative_error(gpu.net->arch().reduce.to(Device::cpu()), cpu.net->arch().reduce),
      tol);
  const auto wc = cpu.net->parameters(), wg = gpu.net->parameters();
  for (size_t i = 0; i < wc.size(); ++i)
    EXPECT_LE(testing::max_relative_error(wg[i].to(Device::cpu()), wc[i]), 1e-4) << "weight " << i;
}

INSTANTIATE_TEST_SUITE_P(Order, DartsGpu, ::testing::Values(1, 2),
                         [](const auto& info) { return "Order" + std::to_string(info.param); });

}  // namespace
}  // namespace fusenas::nas
