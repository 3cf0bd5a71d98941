// Autograd engine: accumulation with fan-out, leaf vs non-leaf grads, detach, NoGradGuard,
// explicit output gradients, graph release, and the errors a user can hit.
#include <gtest/gtest.h>

#include "fusenas/engine/autograd.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas {
namespace {

Tensor vec(std::vector<float> v, bool requires_grad = false) {
  const auto n = static_cast<int64_t>(v.size());
  Tensor t = from_vector(v, {n});
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

TEST(Autograd, FanOutAccumulatesIntoOneGradient) {
  // y = sum(x * x + 3 x) -> dy/dx = 2x + 3, x is used three times.
  Tensor x = vec({1, -2, 0.5}, true);
  Tensor y = sum(add(mul(x, x), scale(x, 3)));
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, -1, 4}));
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = vec({1, 2}, true);
  sum(scale(x, 2)).backward();
  sum(scale(x, 3)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{5, 5}));
}

TEST(Autograd, LeafAndNonLeafGradients) {
  Tensor x = vec({1, 2}, true);
  Tensor h = scale(x, 2);  // non-leaf
  Tensor k = scale(x, 3);  // non-leaf that retains its grad
  k.retain_grad();
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(h.is_leaf());
  sum(mul(h, k)).backward();
  EXPECT_FALSE(h.grad().defined());
  ASSERT_TRUE(k.grad().defined());
  EXPECT_EQ(k.grad().to_vector<float>(), (std::vector<float>{2, 4}));    // dL/dk = h
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{12, 24}));  // 2*3x*2
}

TEST(Autograd, DetachAndNoGradStopHistory) {
  Tensor x = vec({1, 2}, true);
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage(), x.storage());
  {
    NoGradGuard guard;
    EXPECT_FALSE(scale(x, 2).requires_grad());
  }
  EXPECT_TRUE(scale(x, 2).requires_grad());
  Tensor y = sum(add(mul(x, d), x));  // d is a constant
  y.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 3}));
}

TEST(Autograd, BackwardWithExplicitOutputGradient) {
  Tensor x = vec({1, 2, 3}, true);
  Tensor y = mul(x, x);
  y.backward(vec({1, 0, -1}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{2, 0, -6}));
}

TEST(Autograd, NonScalarBackwardWithoutGradientIsAnError) {
  Tensor x = vec({1, 2}, true);
  try {
    scale(x, 2).backward();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2]"), std::string::npos) << e.what();
  }
}

TEST(Autograd, GraphIsReleasedAfterBackward) {
  Tensor x = vec({1, 2}, true);
  Tensor y = sum(mul(x, x));
  y.backward();
  EXPECT_THROW(y.backward(), Error);  // saved tensors are gone
  Tensor z = sum(mul(x, x));
  z.backward({}, /*retain_graph=*/true);
  z.backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 12}));  // 2x + 2x + 2x
}

TEST(Autograd, SavedTensorsDoNotKeepTheGraphAlive) {
  std::weak_ptr<Node> node;
  {
    Tensor x = vec({1, 2}, true);
    Tensor y = sigmoid(x);  // saves its own output
    node = y.grad_fn();
    ASSERT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired()) << "a saved output formed a reference cycle";
}

TEST(Autograd, ViewsPropagateGradients) {
  Tensor x = from_vector(std::vector<float>{0, 1, 2, 3, 4, 5}, {2, 3}).set_requires_grad();
  Tensor y = sum(
      mul(x.permute({1, 0}).slice(0, 1, 3), from_vector(std::vector<float>{1, 2, 3, 4}, {2, 2})));
  y.backward();
  // x^T[1:3] = [[1,4],[2,5]] weighted by [[1,2],[3,4]] -> dx[0][1]=1, dx[1][1]=2, dx[0][2]=3,
  // dx[1][2]=4
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 1, 3, 0, 2, 4}));
  Tensor z = x.reshape({3, 2});
  x.set_grad(Tensor());
  sum(mul(z, z)).backward();
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{0, 2, 4, 6, 8, 10}));
}

}  // namespace
}  // namespace fusenas
