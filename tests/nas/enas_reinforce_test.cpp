// ENAS REINFORCE: the controller learns synthetic rewards, the macro skip penalty pulls the skip
// rate to its target, baseline and loss arithmetic, seeded repeatability, exact resume from a
// checkpoint, and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/nas/enas/reinforce.h"

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

// Fraction of a micro arch's op decisions (4 per node, both cells) that are sep_conv_3x3.
double sep3_fraction(const MicroArch& a) {
  int hits = 0, total = 0;
  for (const MicroCell* cell : {&a.normal, &a.reduce}) {
    for (const MicroNode& n : *cell) {
      hits += (n.op_a == MicroOp::kSepConv3x3) + (n.op_b == MicroOp::kSepConv3x3);
      total += 2;
    }
  }
  return static_cast<double>(hits) / total;
}

// The policy's sep_conv_3x3 rate, estimated from fresh samples of a separate generator.
double policy_sep3_rate(Controller& c, int samples = 50) {
  NoGradGuard no_grad;
  Generator gen(1000);
  double sum = 0;
  for (int i = 0; i < samples; ++i) sum += sep3_fraction(c.sample_micro(gen).micro());
  return sum / samples;
}

// Trains on `reward` until `done(rate)` holds (checked every 25 steps) or max_steps pass;
// returns the final rate.
double train_until(ReinforceTrainer& t, const std::function<double(const Sample&)>& reward,
                   const std::function<bool(double)>& done, int max_steps) {
  double rate = policy_sep3_rate(t.controller());
  for (int step = 1; step <= max_steps && !done(rate); ++step) {
    t.step(reward);
    if (step % 25 == 0) rate = policy_sep3_rate(t.controller());
  }
  return rate;
}

ReinforceConfig one_sample_per_step() {
  ReinforceConfig c;
  c.samples_per_step = 1;
  return c;
}

// Without the tanh bound the policy can become nearly deterministic: the reward "fraction of op
// decisions that are sep_conv_3x3" drives it there (about 100 steps with this seed).
TEST(EnasReinforce, LearnsASyntheticRewardAndItsInverse) {
  ControllerConfig config = ControllerConfig::micro();
  config.tanh_constant = std::nullopt;
  config.enas_op_prior = false;  // unbounded logits would keep a bias of 10 for long
  {
    ReinforceTrainer t(make(config), one_sample_per_step(), 5);
    const double rate = train_until(
        t, [](const Sample& s) { return sep3_fraction(s.micro()); },
        [](double r) { return r >= 0.9; }, 400);
    EXPECT_GE(rate, 0.9) << "after " << t.steps_done() << " steps";
  }
  {
    ReinforceTrainer t(make(config), one_sample_per_step(), 5);
    const double rate = train_until(
        t, [](const Sample& s) { return 1.0 - sep3_fraction(s.micro()); },
        [](double r) { return r <= 0.05; }, 400);
    EXPECT_LE(rate, 0.05) << "after " << t.steps_done() << " steps";
  }
}

// With ENAS's micro constants an op logit lies in [-0.44, 0.44], so no op can be chosen with
// probability above e^0.44 / (e^0.44 + 4 e^-0.44) = 0.376: the same reward moves the policy from
// 0.2 up to that bound and no further.
TEST(EnasReinforce, EnasLogitBoundCapsTheOpProbability) {
  ControllerConfig config = ControllerConfig::micro();
  config.enas_op_prior = false;  // start uniform: the bound alone caps the rate
  ReinforceTrainer t(make(config), one_sample_per_step(), 5);
  const double start = policy_sep3_rate(t.controller());
  EXPECT_NEAR(start, 0.2, 0.06);
  const double rate = train_until(
      t, [](const Sample& s) { return sep3_fraction(s.micro()); }, [](double) { return false; },
      200);
  EXPECT_GE(rate, 0.3);
  EXPECT_LE(rate, 0.376 + 0.05);  // the bound plus three standard errors of the estimate
}

// With the reward held at zero only the skip penalty acts, and it pulls the skip rate from about
// one half to the target.
TEST(EnasReinforce, SkipPenaltyPullsTheSkipRateToItsTarget) {
  ControllerConfig config = ControllerConfig::macro();
  config.skip_target = 0.1;
  ReinforceConfig rc = ReinforceConfig::macro();
  rc.samples_per_step = 2;
  rc.entropy_weight = 0;
  rc.lr = 3.5e-3;
  ReinforceTrainer t(make(config), rc, 3);
  const double first = t.step([](const Sample&) { return 0.0; }).skip_rate;
  EXPECT_GT(first, 0.3);
  for (int i = 0; i < 140; ++i) t.step([](const Sample&) { return 0.0; });
  double rate = 0;  // over the last 10 steps (20 samples, 1320 skip decisions)
  for (int i = 0; i < 10; ++i) rate += t.step([](const Sample&) { return 0.0; }).skip_rate / 10;
  EXPECT_LT(rate, 0.2);
}

TEST(EnasReinforce, BaselineAdvantageAndLossFollowEnas) {
  ReinforceConfig rc = one_sample_per_step();
  rc.entropy_weight = 0;
  ReinforceTrainer t(make(ControllerConfig::micro()), rc, 9);
  const std::vector<double> rewards = {0.5, 1.0, 0.0};
  std::vector<ReinforceStats> stats;
  for (double r : rewards) stats.push_back(t.step([r](const Sample&) { return r; }));
  // The baseline starts at the first reward, then moves before each advantage is taken.
  EXPECT_DOUBLE_EQ(stats[0].baseline, 0.5);
  EXPECT_DOUBLE_EQ(stats[0].advantage, 0.0);
  EXPECT_DOUBLE_EQ(stats[0].grad_norm, 0.0);
  EXPECT_DOUBLE_EQ(stats[1].baseline, 0.99 * 0.5 + 0.01 * 1.0);
  EXPECT_DOUBLE_EQ(stats[1].advantage, 1.0 - stats[1].baseline);
  EXPECT_DOUBLE_EQ(stats[2].baseline, 0.99 * stats[1].baseline);
  EXPECT_NEAR(stats[2].loss, -stats[2].log_prob * stats[2].advantage, 1e-6);
  EXPECT_EQ(stats[2].step, 3);
  EXPECT_EQ(stats[2].rewards, std::vector<double>{0.0});
  ASSERT_EQ(stats[2].archs.size(), 1u);

  // ENAS's TF code starts the baseline at zero; the entropy bonus joins the reward.
  ReinforceConfig tf = one_sample_per_step();
  tf.initial_baseline = 0.0;
  ReinforceTrainer u(make(ControllerConfig::micro()), tf, 9);
  const ReinforceStats s = u.step([](const Sample&) { return 0.5; });
  EXPECT_NEAR(s.advantage, 0.99 * (0.5 + 1e-4 * s.entropy), 1e-12);
  EXPECT_GT(s.grad_norm, 0.0);
}

TEST(EnasReinforce, AveragesSamplesAndClipsTheGradient) {
  ReinforceConfig rc;  // ENAS micro: 10 samples per step
  rc.initial_baseline = 0.0;
  rc.grad_clip = 1e-3;
  ReinforceTrainer t(make(ControllerConfig::micro()), rc, 4);
  const ReinforceStats s = t.step([](const Sample& s) { return sep3_fraction(s.micro()); });
  EXPECT_EQ(s.archs.size(), 10u);
  EXPECT_EQ(s.rewards.size(), 10u);
  EXPECT_GT(s.grad_norm, 1e-3);
  const double clipped =
      optim::clip_grad_norm(t.controller().parameters(), std::numeric_limits<double>::infinity());
  EXPECT_NEAR(clipped, 1e-3, 1e-6);
}

std::vector<float> flat_params(Controller& c) {
  std::vector<float> out;
  for (const Tensor& p : c.parameters()) {
    const auto v = p.to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

double macro_reward(const Sample& s) {
  return s.macro().layers.back().op == MacroOp::kSepConv5x5 ? 1.0 : 0.2;
}

TEST(EnasReinforce, SeededAndResumedRunsEqualTheUninterruptedOneBitForBit) {
  ReinforceConfig rc = ReinforceConfig::macro();
  rc.samples_per_step = 2;
  ReinforceTrainer whole(make(ControllerConfig::macro()), rc, 17);
  ReinforceTrainer first(make(ControllerConfig::macro()), rc, 17);
  for (int i = 0; i < 4; ++i) {
    whole.step(macro_reward);
    first.step(macro_reward);
  }
  EXPECT_EQ(flat_params(whole.controller()), flat_params(first.controller()));

  // In memory: a trainer with another init and seed takes the state and continues identically.
  const ReinforceState snapshot = first.state();
  first.step(macro_reward);  // the snapshot is a copy, unaffected by later steps
  ReinforceTrainer resumed(make(ControllerConfig::macro(), 99), rc, 1234);
  resumed.load_state(snapshot);

  // Through a run checkpoint.
  const auto dir = std::filesystem::temp_directory_path() / "fusenas-enas-reinforce";
  std::filesystem::remove_all(dir);
  CheckpointWriter w;
  resumed.save(w, "controller");
  w.save(dir.string());
  ReinforceTrainer reloaded(make(ControllerConfig::macro(), 98), rc, 4321);
  reloaded.load(CheckpointReader::load(dir.string()), "controller");
  std::filesystem::remove_all(dir);

  for (int i = 0; i < 3; ++i) {
    const ReinforceStats a = whole.step(macro_reward);
    const ReinforceStats b = resumed.step(macro_reward);
    const ReinforceStats c = reloaded.step(macro_reward);
    EXPECT_EQ(a.archs, b.archs);
    EXPECT_EQ(a.archs, c.archs);
    EXPECT_EQ(a.baseline, b.baseline);
    EXPECT_EQ(a.baseline, c.baseline);
    EXPECT_EQ(a.step, c.step);
  }
  EXPECT_EQ(flat_params(whole.controller()), flat_params(resumed.controller()));
  EXPECT_EQ(flat_params(whole.controller()), flat_params(reloaded.controller()));
}

TEST(EnasReinforce, ClearErrors) {
  ReinforceTrainer t(make(ControllerConfig::micro()), one_sample_per_step(), 1);
  EXPECT_NE(error_of([&] {
              t.step([](const Sample&) { return std::nan(""); });
            }).find("reward callback returned nan"),
            std::string::npos);
  ReinforceConfig bad;
  bad.samples_per_step = 0;
  EXPECT_NE(error_of([&] {
              ReinforceTrainer(make(ControllerConfig::micro()), bad, 1);
            }).find("samples_per_step"),
            std::string::npos);
  bad = ReinforceConfig{};
  bad.baseline_decay = 1.0;
  EXPECT_NE(error_of([&] {
              ReinforceTrainer(make(ControllerConfig::micro()), bad, 1);
            }).find("baseline_decay"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ReinforceTrainer(nullptr, ReinforceConfig{}, 1); }).find("controller"),
            std::string::npos);

  // A macro controller's state does not fit a micro trainer, and the failed load changes nothing.
  ReinforceTrainer m(make(ControllerConfig::macro()), ReinforceConfig::macro(), 1);
  const std::vector<float> before = flat_params(t.controller());
  EXPECT_NE(error_of([&] { t.load_state(m.state()); }), "");
  EXPECT_EQ(flat_params(t.controller()), before);
  EXPECT_EQ(t.steps_done(), 0);
}

}  // namespace
}  // namespace fusenas::nas::enas
