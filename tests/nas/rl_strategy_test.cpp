// Zoph & Le's RL: the RNN controller's log-probabilities form a distribution that its sampler
// follows, their gradients (anchor attention included) match central differences in float64, and
// REINFORCE through the ask/tell strategy learns (and unlearns) a rewarded choice.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/zoph_le_space.h"
#include "fusenas/nas/strategy/make_strategy.h"
#include "fusenas/nas/strategy/reinforce_strategy.h"
#include "fusenas/nas/strategy/zoph_le_controller.h"
#include "support/gradcheck.h"

namespace fusenas::nas::strategy {
namespace {

std::shared_ptr<ZophLeController> make(const ZophLeControllerConfig& config, uint64_t seed) {
  Generator gen(seed);
  return std::make_shared<ZophLeController>(config, gen);
}

// Two layers; layer 0 chooses a height of 2, layer 1 a height of 2 and one skip bit: 8 points.
ZophLeControllerConfig tiny() {
  ZophLeControllerConfig c;
  c.hidden_size = 4;
  c.init_range = 0.9;  // a policy far from uniform, so that a wrong normalisation shows
  c.choices.layers = 2;
  c.choices.heights = {1, 3};
  c.choices.widths = {5};
  c.choices.filters = {24};
  return c;
}

std::vector<nlohmann::json> tiny_points() {
  std::vector<nlohmann::json> points;
  for (int h0 : {1, 3})
    for (int h1 : {1, 3})
      for (int skip : {0, 1}) {
        points.push_back({{"layers",
                           {{{"height", h0},
                             {"width", 5},
                             {"filters", 24},
                             {"stride", 1},
                             {"skips", nlohmann::json::array()}},
                            {{"height", h1},
                             {"width", 5},
                             {"filters", 24},
                             {"stride", 1},
                             {"skips", {skip}}}}}});
      }
  return points;
}

TEST(RlController, ProbabilitiesOfEveryPointSumToOne) {
  const auto c = make(tiny(), 3);
  NoGradGuard no_grad;
  double total = 0;
  for (const auto& p : tiny_points()) total += std::exp(c->evaluate(p).log_prob.item());
  EXPECT_NEAR(total, 1.0, 1e-5);
}

// The sampler draws each point as often as evaluate() says it should (4000 draws: a binomial
// standard deviation below 0.008 per point).
TEST(RlController, SamplesFollowTheScoredDistribution) {
  const auto c = make(tiny(), 5);
  NoGradGuard no_grad;
  std::map<std::string, int> counts;
  Generator gen(9);
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    const PolicySample s = c->sample(gen);
    ++counts[s.point.dump()];
    // Replaying the sample scores it exactly as drawing it did.
    if (i < 50) {
      EXPECT_NEAR(c->evaluate(s.point).log_prob.item(), s.log_prob.item(), 1e-6);
    }
  }
  for (const auto& p : tiny_points()) {
    const double want = std::exp(c->evaluate(p).log_prob.item());
    EXPECT_NEAR(counts[p.dump()] / double(n), want, 0.03) << p.dump();
  }
}

// Connecting layer j flips one Bernoulli of P(connect) = sigmoid(s_j): the two log-probabilities
// differ by log(sigmoid(s)) - log(1 - sigmoid(s)) = s, and their probabilities by the same factor
// on both sides, so that P(with) + P(without) = P(the other decisions).
TEST(RlController, SkipBitIsOneSigmoid) {
  const auto c = make(tiny(), 7);
  NoGradGuard no_grad;
  const auto points = tiny_points();
  const double with = std::exp(c->evaluate(points[1]).log_prob.item());
  const double without = std::exp(c->evaluate(points[0]).log_prob.item());
  double marginal = 0;  // P(h0 = 1, h1 = 1) from the other two decisions alone
  for (const auto& p : points) {
    if (p["layers"][0]["height"] == 1 && p["layers"][1]["height"] == 1)
      marginal += std::exp(c->evaluate(p).log_prob.item());
  }
  EXPECT_NEAR(with + without, marginal, 1e-7);
  EXPECT_GT(std::abs(std::log(with / without)), 1e-3);  // the attention is not trivially zero
}

TEST(RlController, LogProbAndEntropyGradientsMatchFiniteDifferences) {
  ZophLeControllerConfig config;
  config.hidden_size = 5;
  config.init_range = 0.7;
  config.choices.layers = 4;
  config.choices.strides = {1, 2};
  const auto c = make(config, 11);
  c->to(DType::Float64);
  Generator gen(2);
  nlohmann::json point;
  int skips = 0;
  for (int tries = 0; tries < 50 && skips < 2; ++tries) {  // a sample that connects some layers
    NoGradGuard no_grad;
    point = c->sample(gen).point;
    skips = 0;
    for (const auto& l : point["layers"])
      for (const auto& b : l["skips"]) skips += b.get<int>();
  }
  ASSERT_GE(skips, 2);
  const std::vector<Tensor> params = c->parameters();
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate(point).log_prob; }, params, 1e-6, 1e-6);
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate(point).entropy; }, params, 1e-6, 1e-6);
  // The anchor attention's parameters do get a gradient.
  c->zero_grad();
  c->evaluate(point).log_prob.backward();
  double attn = 0;
  for (const auto& w : c->attn_v->parameters())
    for (double g : w.grad().to_vector<double>()) attn += std::abs(g);
  EXPECT_GT(attn, 1e-6);
}

TEST(RlController, DecisionsFollowTheChoices) {
  ZophLeControllerConfig config;
  config.choices.layers = 5;
  config.choices.strides = {1, 2};
  const auto c = make(config, 1);
  EXPECT_EQ(c->decisions_per_layer(), 4);
  space::ZophLeOptions o;
  o.layers = 5;
  o.strides = {1, 2};
  const space::ZophLeSpace space(o);
  NoGradGuard no_grad;
  Generator gen(4);
  std::map<int64_t, int> heights;
  for (int i = 0; i < 200; ++i) {
    const nlohmann::json p = c->sample(gen).point;
    ASSERT_NO_THROW(space.validate(p)) << p.dump();  // a valid configuration string every time
    ASSERT_EQ(p["layers"].size(), 5u);
    for (size_t l = 0; l < 5; ++l) {
      const auto& layer = p["layers"][l];
      ++heights[layer["height"].get<int64_t>()];
      EXPECT_EQ(layer["skips"].size(), l);
      EXPECT_TRUE(layer["stride"] == 1 || layer["stride"] == 2);
    }
  }
  EXPECT_EQ(heights.size(), 4u);  // every height of {1, 3, 5, 7} comes up
}

TEST(RlController, RejectsPointsOutsideItsChoices) {
  const auto c = make(tiny(), 1);
  nlohmann::json p = tiny_points()[0];
  p["layers"][0]["height"] = 7;
  EXPECT_THROW(c->evaluate(p), Error);
  p = tiny_points()[0];
  p["layers"][1]["skips"] = {1, 0};
  EXPECT_THROW(c->evaluate(p), Error);
  p = tiny_points()[0];
  p["layers"].erase(1);
  EXPECT_THROW(c->evaluate(p), Error);
  ZophLeControllerConfig bad = tiny();
  bad.choices.filters.clear();
  EXPECT_THROW(make(bad, 1), Error);
}

// The share of the controller's samples whose layer 1 has filter height 7.
double share_of_height7(ZophLeController& c, uint64_t seed) {
  NoGradGuard no_grad;
  Generator gen(seed);
  int hits = 0;
  const int n = 400;
  for (int i = 0; i < n; ++i) hits += c.sample(gen).point["layers"][1]["height"] == 7 ? 1 : 0;
  return hits / double(n);
}

// A synthetic reward: 100% when layer 1's filter height is 7 (or, inverted, when it is not), 0%
// otherwise. lr 0.05 instead of the paper's 6e-4 keeps the test short; m = 8 as in the paper.
double train_on_synthetic_reward(bool inverted, int updates) {
  space::ZophLeOptions o;
  o.layers = 3;
  const space::ZophLeSpace space(o);
  RlOptions rl;
  rl.children_per_step = 8;
  rl.lr = 0.05;
  StrategyOptions options;
  options.rl = rl;
  const auto s = make_strategy("rl", space, 17, options);
  auto& strategy = dynamic_cast<ReinforceStrategy&>(*s);
  EXPECT_NEAR(share_of_height7(strategy.controller(), 1), 0.25, 0.08);  // 1 of 4 heights at first
  for (int i = 0; i < updates * rl.children_per_step; ++i) {
    const space::Point p = strategy.ask();
    const bool hit = p["layers"][1]["height"] == 7;
    strategy.tell(p, hit != inverted ? 100.0 : 0.0);
  }
  EXPECT_EQ(static_cast<int>(strategy.steps().size()), updates);
  return share_of_height7(strategy.controller(), 2);
}

TEST(RlStrategy, ReinforceLearnsARewardedChoiceWithin40Updates) {
  EXPECT_GT(train_on_synthetic_reward(/*inverted=*/false, 40), 0.9);
}

TEST(RlStrategy, InvertedRewardUnlearnsIt) {
  EXPECT_LT(train_on_synthetic_reward(/*inverted=*/true, 40), 0.05);
}

// The update is the lecture's estimator: with the baseline at the batch mean, one update moves
// the parameters by ADAM's first step, whose direction is that of
// (1/m) sum_k grad log P(a_k) (R_k - b); checked against that gradient computed by hand here.
TEST(RlStrategy, UpdateFollowsTheReinforceGradient) {
  space::ZophLeOptions o;
  o.layers = 2;
  const space::ZophLeSpace space(o);
  RlOptions rl;
  rl.children_per_step = 4;
  rl.lr = 1e-4;
  StrategyOptions options;
  options.rl = rl;
  const auto s = make_strategy("rl", space, 3, options);
  auto& strategy = dynamic_cast<ReinforceStrategy&>(*s);
  ZophLeController& c = strategy.controller();
  std::vector<space::Point> points;
  const std::vector<double> scores = {90, 50, 70, 10};  // mean 55: the first batch's baseline
  for (int k = 0; k < 4; ++k) points.push_back(strategy.ask());
  // The expected gradient of the loss -(1/m) sum_k log P(a_k) (R_k - b), by hand.
  c.zero_grad();
  for (int k = 0; k < 4; ++k) {
    const double advantage = scores[k] / 100.0 - 0.55;
    scale(c.evaluate(points[k]).log_prob, -advantage / 4).backward();
  }
  std::vector<std::vector<double>> grads, before;
  for (const Tensor& p : c.parameters()) {
    grads.push_back(p.grad().to_vector<double>());
    before.push_back(p.to_vector<double>());
  }
  c.zero_grad();
  for (int k = 0; k < 4; ++k) strategy.tell(points[k], scores[k]);
  ASSERT_EQ(strategy.steps().size(), 1u);
  EXPECT_NEAR(strategy.steps()[0].baseline, 0.55, 1e-12);
  // ADAM's first step is lr * g / (|g| + eps') per entry: every moved entry moves against its
  // gradient's sign by about lr.
  const std::vector<Tensor> params = c.parameters();
  int moved = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::vector<double> after = params[i].to_vector<double>();
    for (size_t j = 0; j < after.size(); ++j) {
      const double step = after[j] - before[i][j], g = grads[i][j];
      if (std::abs(g) < 1e-6) continue;
      EXPECT_LT(step * g, 0) << i << "," << j;
      EXPECT_NEAR(std::abs(step), rl.lr, rl.lr * 0.05);
      ++moved;
    }
  }
  EXPECT_GT(moved, 100);
  // The baseline then moves toward each reward in turn.
  double b = 0.55;
  for (double r : scores) b = 0.95 * b + 0.05 * r / 100.0;
  EXPECT_NEAR(*strategy.baseline(), b, 1e-12);
}

TEST(RlStrategy, FailedChildRewardsZeroAndOtherSpacesAreRefused) {
  space::ZophLeOptions o;
  o.layers = 2;
  const space::ZophLeSpace space(o);
  RlOptions rl;
  rl.reward = RlReward::kMax5Cubed;
  StrategyOptions options;
  options.rl = rl;
  const auto s = make_strategy("rl", space, 3, options);
  const auto& strategy = dynamic_cast<const ReinforceStrategy&>(*s);
  EXPECT_EQ(strategy.reward_of(std::nullopt), 0.0);
  EXPECT_NEAR(strategy.reward_of(90.0), 0.729, 1e-12);
  EXPECT_EQ(parse_rl_reward("accuracy"), RlReward::kAccuracy);
  EXPECT_THROW(parse_rl_reward("cubed"), Error);
  EXPECT_THROW(make_strategy("rl", *space::make_arch_space("chain"), 1), Error);
  EXPECT_EQ(default_rl_children(20), 2);
  EXPECT_EQ(default_rl_children(100), 8);
}

}  // namespace
}  // namespace fusenas::nas::strategy
