// ENAS controller: seeded sampling, replay matching sampling, log-prob/entropy/skip-penalty
// gradients against finite differences in double, validity of many samples, clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/enas/controller.h"
#include "support/gradcheck.h"

namespace fusenas::nas::enas {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::shared_ptr<Controller> make(const ControllerConfig& config, uint64_t seed = 1) {
  Generator gen(seed);
  return std::make_shared<Controller>(config, gen);
}

TEST(EnasController, ConfigsCarryTheEnasConstants) {
  const ControllerConfig micro = ControllerConfig::micro();
  EXPECT_EQ(micro.space, SearchSpace::kMicro);
  EXPECT_EQ(micro.hidden_size, 64);
  EXPECT_EQ(micro.num_nodes, 5);
  EXPECT_FALSE(micro.temperature.has_value());
  EXPECT_DOUBLE_EQ(*micro.tanh_constant / micro.op_tanh_reduce, 0.44);
  const ControllerConfig macro = ControllerConfig::macro();
  EXPECT_EQ(macro.space, SearchSpace::kMacro);
  EXPECT_EQ(macro.num_layers, 12);
  EXPECT_DOUBLE_EQ(*macro.tanh_constant, 1.5);
  EXPECT_DOUBLE_EQ(macro.op_tanh_reduce, 1.0);
  EXPECT_DOUBLE_EQ(macro.skip_target, 0.4);

  const auto c = make(micro);
  // LSTM without bias (ENAS), start token, op embedding and softmax, attention W1, W2, v.
  std::set<std::string> names;
  for (const auto& [name, t] : c->named_parameters()) names.insert(name);
  EXPECT_EQ(names,
            (std::set<std::string>{"lstm.weight_ih", "lstm.weight_hh", "g_emb", "op_emb.weight",
                                   "op_logits.weight", "op_logits.bias", "attn_key.weight",
                                   "attn_query.weight", "attn_v.weight"}));
  for (const auto& [name, p] : c->named_parameters()) {
    if (name == "op_logits.bias") continue;  // ENAS's op prior, below
    for (float v : p.to_vector<float>()) ASSERT_LE(std::abs(v), 0.1f) << name;
  }
  EXPECT_EQ(c->op_logits->bias.to_vector<float>(), (std::vector<float>{10, 10, 0, 0, 0}));
  EXPECT_FALSE(make(macro)->op_logits->bias.defined());
}

TEST(EnasController, SamplingIsSeededAndReplayScoresTheSameSequence) {
  const auto c = make(ControllerConfig::micro());
  Generator g1(7), g2(7), g3(8);
  const Sample a = c->sample_micro(g1);
  const Sample b = c->sample_micro(g2);
  EXPECT_EQ(a.micro(), b.micro());
  EXPECT_EQ(a.log_prob.item(), b.log_prob.item());
  std::set<std::string> seen;
  for (int i = 0; i < 5; ++i) seen.insert(c->sample_micro(g3).micro().to_json());
  EXPECT_GT(seen.size(), 1u);

  const Sample replay = c->evaluate_micro(a.micro());
  EXPECT_NEAR(replay.log_prob.item(), a.log_prob.item(), 1e-5);
  EXPECT_NEAR(replay.entropy.item(), a.entropy.item(), 1e-5);
  EXPECT_LT(a.log_prob.item(), 0.0);
  EXPECT_GT(a.entropy.item(), 0.0);
  EXPECT_FALSE(a.skip_penalty.defined());
  EXPECT_NE(error_of([&] { a.macro(); }).find("micro"), std::string::npos);

  const auto m = make(ControllerConfig::macro());
  Generator g4(3);
  const Sample s = m->sample_macro(g4);
  const Sample r = m->evaluate(s);
  EXPECT_EQ(r.macro(), s.macro());
  EXPECT_NEAR(r.log_prob.item(), s.log_prob.item(), 1e-5);
  EXPECT_NEAR(r.entropy.item(), s.entropy.item(), 1e-5);
  EXPECT_NEAR(r.skip_penalty.item(), s.skip_penalty.item(), 1e-6);
  EXPECT_EQ(s.skip_count, s.macro().num_skips());
  EXPECT_GE(s.skip_penalty.item(), 0.0);
}

// With untrained (near-zero) logits and no op prior every decision is close to uniform, so the
// summed entropy is close to the sum of log(choices) over the decisions.
TEST(EnasController, UntrainedPolicyIsNearlyUniform) {
  ControllerConfig config = ControllerConfig::micro();
  config.init_range = 1e-4;
  config.enas_op_prior = false;
  const auto c = make(config);
  Generator gen(5);
  const Sample s = c->sample_micro(gen);
  double expected = 0;
  for (int cell = 0; cell < 2; ++cell) {
    for (int k = 0; k < 5; ++k) expected += 2 * std::log(2.0 + k) + 2 * std::log(5.0);
  }
  EXPECT_NEAR(s.entropy.item(), expected, 1e-3);
  EXPECT_NEAR(s.log_prob.item(), -expected, 1e-3);
}

// ENAS's default micro controller starts biased toward the sep convs: op bias [10, 10, 0, 0, 0]
// under the tanh bound 0.44, plus a fixed [0.25, 0.25, -0.25, -0.25, -0.25] in the normal cell.
// With untrained weights each op decision then has these probabilities, worked by hand: normal
// logits [0.44 tanh(10) + 0.25, x2, -0.25 x3] give 0.315 per sep conv and 0.123 for the others;
// reduce logits [0.44 tanh(10), x2, 0 x3] give 0.254 and 0.164.
TEST(EnasController, DefaultMicroPolicyStartsWithEnassOpPrior) {
  ControllerConfig config = ControllerConfig::micro();
  EXPECT_TRUE(config.enas_op_prior);
  EXPECT_FALSE(ControllerConfig::macro().enas_op_prior);
  config.init_range = 1e-4;
  const auto c = make(config);
  const double b = 0.44 * std::tanh(10.0);
  const std::vector<double> normal = {b + 0.25, b + 0.25, -0.25, -0.25, -0.25};
  const std::vector<double> reduce = {b, b, 0, 0, 0};
  auto entropy_of = [](const std::vector<double>& logits) {
    double z = 0, h = 0;
    for (double l : logits) z += std::exp(l);
    for (double l : logits) h -= std::exp(l) / z * std::log(std::exp(l) / z);
    return h;
  };
  auto prob_of_first = [](const std::vector<double>& logits) {
    double z = 0;
    for (double l : logits) z += std::exp(l);
    return std::exp(logits[0]) / z;
  };
  EXPECT_NEAR(prob_of_first(normal), 0.315, 5e-4);
  EXPECT_NEAR(prob_of_first(reduce), 0.254, 5e-4);
  double expected = 0;
  for (int k = 0; k < 5; ++k) {
    expected += 2 * std::log(2.0 + k) + 2 * entropy_of(normal);  // normal cell node k
    expected += 2 * std::log(2.0 + k) + 2 * entropy_of(reduce);  // reduce cell node k
  }
  Generator gen(5);
  const Sample s = c->sample_micro(gen);
  EXPECT_NEAR(s.entropy.item(), expected, 1e-3);
}

// ENAS's skip penalty is KL(q || [1 - t, t]) with q = [sigmoid(-s), sigmoid(s)] of the squashed
// attention logit s, not of the sampled probability sigmoid(2 s). With two layers there is one
// skip decision, and s comes out of the replayed log-probabilities: log P(skip) - log P(no skip)
// = log sigmoid(2 s) - log sigmoid(-2 s) = 2 s (the ops are the same in both).
TEST(EnasController, MacroSkipPenaltyIsEnassKlOfSigmoidOfTheLogit) {
  ControllerConfig config = ControllerConfig::macro();
  config.num_layers = 2;
  config.hidden_size = 8;
  config.init_range = 0.9;  // a logit far enough from 0 for the two formulas to differ
  const auto c = make(config, 31);
  c->to(DType::Float64);
  Generator gen(2);
  MacroArch with = c->sample_macro(gen).macro(), without = with;
  with.layers[1].skips = {true};
  without.layers[1].skips = {false};
  const double s =
      (c->evaluate_macro(with).log_prob.item() - c->evaluate_macro(without).log_prob.item()) / 2;
  ASSERT_GT(std::abs(s), 0.05);
  const double t = config.skip_target;
  auto kl = [&](double p_skip) {
    return (1 - p_skip) * std::log((1 - p_skip) / (1 - t)) + p_skip * std::log(p_skip / t);
  };
  const double sigmoid_s = 1 / (1 + std::exp(-s)), sigmoid_2s = 1 / (1 + std::exp(-2 * s));
  const double penalty = c->evaluate_macro(with).skip_penalty.item();
  EXPECT_NEAR(penalty, kl(sigmoid_s), 1e-9);
  EXPECT_GT(std::abs(kl(sigmoid_s) - kl(sigmoid_2s)), 1e-3);  // the test tells them apart
}

// The gradient of a fixed sequence's log-probability (and entropy, and the macro skip penalty)
// with respect to every controller parameter matches central differences, in float64.
TEST(EnasController, LogProbGradientMatchesFiniteDifferencesMicro) {
  ControllerConfig config = ControllerConfig::micro();
  config.hidden_size = 6;
  config.num_nodes = 3;
  config.init_range = 0.8;   // large enough that tanh and the LSTM gates are far from linear
  config.temperature = 1.5;  // exercise every branch of the logit squash
  config.enas_op_prior = true;
  const auto c = make(config, 11);
  c->to(DType::Float64);
  Generator gen(2);
  const MicroArch arch = c->sample_micro(gen).micro();
  const std::vector<Tensor> params = c->parameters();
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate_micro(arch).log_prob; }, params, 1e-6,
      1e-6);
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate_micro(arch).entropy; }, params, 1e-6,
      1e-6);
}

TEST(EnasController, LogProbGradientMatchesFiniteDifferencesMacro) {
  ControllerConfig config = ControllerConfig::macro();
  config.hidden_size = 6;
  config.num_layers = 5;
  config.init_range = 0.8;
  const auto c = make(config, 12);
  c->to(DType::Float64);
  Generator gen(4);
  const MacroArch arch = c->sample_macro(gen).macro();
  ASSERT_GT(arch.num_skips(), 0);
  const std::vector<Tensor> params = c->parameters();
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate_macro(arch).log_prob; }, params, 1e-6,
      1e-6);
  // The skip decisions come after the op choice, so the op softmax does not reach the penalty.
  std::vector<Tensor> reach;
  for (const auto& [name, p] : c->named_parameters()) {
    if (name.rfind("op_logits", 0) != 0) reach.push_back(p);
  }
  testing::expect_gradients_match(
      [&](const std::vector<Tensor>&) { return c->evaluate_macro(arch).skip_penalty; }, reach, 1e-6,
      1e-6);
}

TEST(EnasController, EverySampledArchitectureIsValidAndRoundTrips) {
  const auto micro = make(ControllerConfig::micro(), 21);
  const auto macro = make(ControllerConfig::macro(), 22);
  NoGradGuard no_grad;  // only the architectures matter here
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE(seed);
    Generator gen(seed);
    const MicroArch a = micro->sample(gen).micro();
    ASSERT_NO_THROW(a.validate());
    ASSERT_EQ(a.num_nodes(), 5);
    EXPECT_EQ(MicroArch::from_json(a.to_json()), a);
    const Genotype g = to_genotype(a);
    ASSERT_NO_THROW(g.validate());
    EXPECT_EQ(micro_arch_from_genotype(g), a);
    EXPECT_EQ(Genotype::parse_text(g.to_text()), g);

    const Sample s = macro->sample(gen);
    const MacroArch& m = s.macro();
    ASSERT_NO_THROW(m.validate());
    ASSERT_EQ(m.num_layers(), 12);
    EXPECT_EQ(s.skip_count, m.num_skips());
    EXPECT_EQ(MacroArch::from_json(m.to_json()), m);
  }
}

TEST(EnasController, ClearErrors) {
  const auto micro = make(ControllerConfig::micro());
  const auto macro = make(ControllerConfig::macro());
  Generator gen(1);
  EXPECT_NE(error_of([&] { micro->sample_macro(gen); }).find("micro controller"),
            std::string::npos);
  EXPECT_NE(error_of([&] { macro->evaluate_micro(MicroArch{}); }).find("macro controller"),
            std::string::npos);

  MicroArch small;
  small.normal = small.reduce = {{0, MicroOp::kIdentity, 1, MicroOp::kSepConv3x3}};
  EXPECT_NE(error_of([&] { micro->evaluate_micro(small); }).find("1 nodes per cell"),
            std::string::npos);
  MicroArch bad = micro->sample_micro(gen).micro();
  bad.reduce[2].input_b = 4;
  EXPECT_NE(error_of([&] { micro->evaluate_micro(bad); }).find("reads state 4"), std::string::npos);
  MacroArch shallow;
  shallow.layers = {{MacroOp::kConv3x3, {}}};
  EXPECT_NE(error_of([&] { macro->evaluate_macro(shallow); }).find("1 layers"), std::string::npos);

  ControllerConfig c = ControllerConfig::micro();
  c.hidden_size = 0;
  EXPECT_NE(error_of([&] { make(c); }).find("hidden_size"), std::string::npos);
  c = ControllerConfig::macro();
  c.skip_target = 1.0;
  EXPECT_NE(error_of([&] { make(c); }).find("skip_target"), std::string::npos);
  c.skip_target = 0.4;
  c.enas_op_prior = true;
  EXPECT_NE(error_of([&] { make(c); }).find("micro space only"), std::string::npos);
  c = ControllerConfig::micro();
  c.temperature = -1.0;
  EXPECT_NE(error_of([&] { make(c); }).find("temperature"), std::string::npos);
}

}  // namespace
}  // namespace fusenas::nas::enas
