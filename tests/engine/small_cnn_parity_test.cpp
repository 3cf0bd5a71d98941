// Composite check of the engine core: a small CNN trained for 5 SGD-momentum steps from the same
// initial weights follows PyTorch's loss trajectory (and ends at the same weights).
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/optim.h"
#include "support/torch_oracle.h"

namespace fusenas {
namespace {

TEST(SmallCnnParity, FiveSgdStepsFollowPyTorch) {
  constexpr int kSteps = 5;
  Generator gen(2024);
  nn::Conv2d conv(3, 8, 3, Conv2dParams::square(1, 1), gen);
  nn::BatchNorm2d bn(8);
  nn::Linear fc(8, 10, gen);
  // Non-trivial affine BN parameters so their gradients matter.
  bn.weight.copy_(uniform({8}, 0.5, 1.5, gen));
  bn.bias.copy_(uniform({8}, -0.5, 0.5, gen));
  const Tensor images = uniform({kSteps, 16, 12, 12, 3}, -1, 1, gen);
  const Tensor labels = randint({kSteps, 16}, 0, 10, gen);
  testing::OracleCase c{
      "small_cnn_train",
      {{"steps", kSteps}, {"lr", 0.1}, {"momentum", 0.9}, {"weight_decay", 3e-4}},
      {images, labels, conv.weight.detach().clone(), bn.weight.detach().clone(),
       bn.bias.detach().clone(), fc.weight.detach().clone(), fc.bias.detach().clone()},
      {},
      std::vector<bool>(7, false)};
  const auto expected = testing::run_torch({c})[0].outputs;

  std::vector<Tensor> params = conv.parameters();
  for (auto* m : std::vector<nn::Module*>{&bn, &fc}) {
    for (const auto& p : m->parameters()) params.push_back(p);
  }
  optim::SGD opt(params, 0.1, 0.9, 3e-4);
  for (int step = 0; step < kSteps; ++step) {
    const Tensor x = images.narrow(0, step, 1).reshape({16, 12, 12, 3});
    const Tensor y = labels.narrow(0, step, 1).reshape({16});
    Tensor h = max_pool2d(relu(bn.forward(conv.forward(x))), 3, 2, 1);
    Tensor loss = cross_entropy(fc.forward(global_avg_pool(h)), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    EXPECT_NEAR(loss.item(), expected[0].at({step}), 1e-4) << "step " << step;
  }
  EXPECT_LE(testing::max_relative_error(conv.weight, expected[1]), 1e-4);
  EXPECT_LE(testing::max_relative_error(fc.weight, expected[2]), 1e-4);
  EXPECT_LE(testing::max_relative_error(bn.running_mean, expected[3]), 1e-4);
  EXPECT_LE(testing::max_relative_error(bn.running_var, expected[4]), 1e-4);
}

}  // namespace
}  // namespace fusenas
