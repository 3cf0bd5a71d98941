// DARTS search steps against an independent PyTorch supernet
// (tests/support/oracle_ops/darts_supernet.py) from the same weights, alphas and batches: losses,
// weight and alpha gradients, and both parameter sets after three steps, in first and second order.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/darts/search_step.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

constexpr int kSteps = 3;
constexpr int64_t kBatch = 4;

struct Run {
  std::vector<double> train_losses, val_losses;
  std::vector<Tensor> alpha_grads;  // [2, E, K] per step
  std::vector<Tensor> first_weight_grads;
  std::vector<Tensor> final_weights;
  Tensor final_normal, final_reduce;
};

class DartsSearchParity : public ::testing::TestWithParam<int> {};

TEST_P(DartsSearchParity, MatchesPyTorch) {
  const int order = GetParam();
  SearchSpace space;
  space.channels = 4;
  space.cells = 3;
  space.in_channels = 3;
  space.image_size = 8;
  Generator gen(11);
  Supernet net(space, gen);
  // Alphas far enough from uniform that the softmax weights matter.
  {
    const NoGradGuard no_grad;
    net.arch().normal.copy_(normal({space.num_edges(), space.num_ops()}, 0, 0.5, gen));
    net.arch().reduce.copy_(normal({space.num_edges(), space.num_ops()}, 0, 0.5, gen));
  }
  const Tensor xt = normal({kSteps, kBatch, 8, 8, 3}, 0, 1, gen);
  const Tensor xv = normal({kSteps, kBatch, 8, 8, 3}, 0, 1, gen);
  const Tensor yt = randint({kSteps, kBatch}, 0, 10, gen);
  const Tensor yv = randint({kSteps, kBatch}, 0, 10, gen);
  const double lr = 0.025, momentum = 0.9, wd = 3e-4, arch_lr = 3e-4, arch_wd = 1e-3, clip = 5;

  std::vector<Tensor> inputs = {
      xt, yt, xv, yv, net.arch().normal.detach().clone(), net.arch().reduce.detach().clone()};
  const std::vector<Tensor> weights = net.parameters();
  for (const auto& w : weights) inputs.push_back(w.detach().clone());
  testing::OracleCase c{"darts_search_steps",
                        {{"nodes", space.nodes},
                         {"cells", space.cells},
                         {"steps", kSteps},
                         {"order", order},
                         {"lr", lr},
                         {"momentum", momentum},
                         {"weight_decay", wd},
                         {"arch_lr", arch_lr},
                         {"arch_wd", arch_wd},
                         {"grad_clip", clip}},
                        inputs,
                        {},
                        std::vector<bool>(inputs.size(), false)};
  const auto expected = testing::run_torch({c})[0].outputs;
  const size_t n = weights.size();
  ASSERT_EQ(expected.size(), 2 + 2 * n + 2);

  optim::SGD sgd(weights, lr, momentum, wd);
  ArchitectConfig ac;
  ac.order = order;
  ac.lr = arch_lr;
  ac.weight_decay = arch_wd;
  Architect architect(net, sgd, ac);
  const double alpha_tol = order == 1 ? 1e-4 : 1e-3;
  for (int s = 0; s < kSteps; ++s) {
    const SearchStepResult r = darts_search_step(
        net, architect, sgd, clip, xt.narrow(0, s, 1).reshape({kBatch, 8, 8, 3}),
        yt.narrow(0, s, 1).reshape({kBatch}), xv.narrow(0, s, 1).reshape({kBatch, 8, 8, 3}),
        yv.narrow(0, s, 1).reshape({kBatch}));
    const double train_loss = r.train_loss.item(), val_loss = r.val_loss.item();
    EXPECT_NEAR(train_loss, expected[0].at({s, 0}), 1e-4 * std::abs(train_loss)) << "step " << s;
    EXPECT_NEAR(val_loss, expected[0].at({s, 1}), 1e-4 * std::abs(val_loss)) << "step " << s;
    const Tensor step_grads = expected[1].narrow(0, s, 1);
    EXPECT_LE(
        testing::max_relative_error(net.arch().normal.grad(),
                                    step_grads.narrow(1, 0, 1).reshape(net.arch().normal.shape())),
        alpha_tol)
        << "normal alpha gradient, step " << s;
    EXPECT_LE(
        testing::max_relative_error(net.arch().reduce.grad(),
                                    step_grads.narrow(1, 1, 1).reshape(net.arch().reduce.shape())),
        alpha_tol)
        << "reduce alpha gradient, step " << s;
    if (s == 0) {
      for (size_t i = 0; i < n; ++i)
        EXPECT_LE(testing::max_relative_error(weights[i].grad(), expected[2 + i]), 1e-4)
            << "weight gradient " << i;
    }
  }
  for (size_t i = 0; i < n; ++i)
    EXPECT_LE(testing::max_relative_error(weights[i], expected[2 + n + i]), 1e-4) << "weight " << i;
  EXPECT_LE(testing::max_relative_error(net.arch().normal, expected[2 + 2 * n]), 1e-4);
  EXPECT_LE(testing::max_relative_error(net.arch().reduce, expected[3 + 2 * n]), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Order, DartsSearchParity, ::testing::Values(1, 2), [](const auto& info) {
  return info.param == 1 ? "FirstOrder" : "SecondOrder";
});

}  // namespace
}  // namespace fusenas::nas
