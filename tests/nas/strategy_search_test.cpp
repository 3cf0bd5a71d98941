// Evolution and Bayesian optimisation against random search on a cheap synthetic objective over
// the real architecture spaces: the margin of the mean incumbent over seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/make_strategy.h"

namespace fusenas::nas::strategy {
namespace {

// A fixed function of the encoding: a random linear form plus a random quadratic form (pairwise
// interactions between decisions), each scaled to unit spread over random points of the space, so
// the objective is in standard deviations of random search's draws whatever the encoding.
class SyntheticObjective {
 public:
  explicit SyntheticObjective(const space::Space& s) : d_(s.encoding_size()) {
    Generator gen(20240601);
    w_.resize(d_);
    a_.resize(d_ * d_);
    for (auto& v : w_) v = gen.next_normal();
    for (auto& v : a_) v = gen.next_normal();
    double lin_sum = 0, lin_sq = 0, quad_sum = 0, quad_sq = 0;
    constexpr int kSamples = 500;
    for (int i = 0; i < kSamples; ++i) {
      const auto e = s.encode(s.sample(gen));
      const double l = linear(e), q = quadratic(e);
      lin_sum += l, lin_sq += l * l, quad_sum += q, quad_sq += q * q;
    }
    lin_mean_ = lin_sum / kSamples;
    lin_sd_ = std::sqrt(lin_sq / kSamples - lin_mean_ * lin_mean_);
    quad_mean_ = quad_sum / kSamples;
    quad_sd_ = std::sqrt(quad_sq / kSamples - quad_mean_ * quad_mean_);
  }

  // Noise-free value: about N(0, 2) over random points.
  double operator()(const std::vector<float>& e) const {
    return (linear(e) - lin_mean_) / lin_sd_ + (quadratic(e) - quad_mean_) / quad_sd_;
  }

 private:
  double linear(const std::vector<float>& e) const {
    double s = 0;
    for (int64_t i = 0; i < d_; ++i) s += w_[i] * e[i];
    return s;
  }
  double quadratic(const std::vector<float>& e) const {
    double s = 0;
    for (int64_t i = 0; i < d_; ++i) {
      if (e[i] == 0) continue;
      for (int64_t j = 0; j < d_; ++j) s += a_[i * d_ + j] * e[i] * e[j];
    }
    return s;
  }

  int64_t d_;
  std::vector<double> w_, a_;
  double lin_mean_ = 0, lin_sd_ = 1, quad_mean_ = 0, quad_sd_ = 1;
};

constexpr int64_t kBudget = 80;
constexpr double kNoise = 0.1;  // observation noise, in the objective's units

// The noise-free value of the incumbent after a sequential search of kBudget trials.
double search(const std::string& strategy, const StrategyOptions& options, const space::Space& s,
              const SyntheticObjective& f, uint64_t seed) {
  auto st = make_strategy(strategy, s, seed, options);
  Generator noise(seed + 7777);
  for (int64_t t = 0; t < kBudget; ++t) {
    const auto p = st->ask();
    st->tell(p, f(s.encode(p)) + kNoise * noise.next_normal());
  }
  return f(s.encode(st->incumbent()->point));
}

// The mean incumbent over seeds 0..seeds-1; prints every seed's so a failure shows the spread.
double mean_incumbent(const std::string& label, const std::string& strategy,
                      const StrategyOptions& options, const space::Space& s,
                      const SyntheticObjective& f, int seeds) {
  double mean = 0;
  std::string line;
  for (int seed = 0; seed < seeds; ++seed) {
    const double v = search(strategy, options, s, f, static_cast<uint64_t>(seed));
    mean += v / seeds;
    line += fmt::format(" {:.1f}", v);
  }
  std::printf("%s %s: mean %.2f over %d seeds:%s\n", s.name().c_str(), label.c_str(), mean, seeds,
              line.c_str());
  return mean;
}

StrategyOptions budget_options() {
  StrategyOptions o;
  o.budget_trials = kBudget;
  return o;
}

class StrategySearchTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<space::ArchSpace> space_ = space::make_arch_space(GetParam());
  SyntheticObjective f_{*space_};
};

// Random search and evolution cost little per trial, so they get many seeds; BO's surrogate costs
// ~10 ms per ask and its margin is several times larger, so three seeds settle it. Measured at 80
// trials, incumbents in the objective's units (one seed's random incumbent spreads by 0.6-1.2),
// chain / multibranch / darts-cell:
//   random:        4.00 / 3.48 / 3.40 (256 seeds); 3.74 / 3.34 / 3.44 (the 32 seeds here)
//   evolution:     5.72 / 4.92 / 5.00 (256 seeds); 5.91 / 4.82 / 5.10 (the 32 seeds here)
//   BO, EI:        12.05 / 6.68 / 7.91 (12 seeds; worst single seeds 10.5 / 5.7 / 5.9)
//   BO, Thompson:  10.01 on chains (12 seeds; worst 4.6)
// Evolution's margin over 32 seeds (eight blocks of 32 of those 256) was never below 1.27; BO's
// mean over its three worst seeds of twelve stays 2.4 above random's mean. The margins asserted are
// well below both.
constexpr int kCheapSeeds = 32;
constexpr int kBoSeeds = 3;

TEST_P(StrategySearchTest, EvolutionBeatsRandomSearch) {
  const auto o = budget_options();
  const double random = mean_incumbent("random", "random", o, *space_, f_, kCheapSeeds);
  const double evolution = mean_incumbent("evolution", "evolution", o, *space_, f_, kCheapSeeds);
  EXPECT_GT(evolution - random, 0.5);
}

TEST_P(StrategySearchTest, BayesianOptimisationBeatsRandomSearch) {
  const auto o = budget_options();
  const double random = mean_incumbent("random", "random", o, *space_, f_, kCheapSeeds);
  const double bo = mean_incumbent("bo (ei)", "bo", o, *space_, f_, kBoSeeds);
  EXPECT_GT(bo - random, 1.5);
}

// Thompson sampling on one space only: its joint posterior draws cost more per ask.
TEST(StrategySearch, ThompsonSamplingBeatsRandomSearchOnChains) {
  const auto s = space::make_arch_space("chain");
  const SyntheticObjective f(*s);
  StrategyOptions thompson = budget_options();
  thompson.bo = default_bo_options(kBudget);
  thompson.bo->acquisition = "thompson";
  const double random = mean_incumbent("random", "random", budget_options(), *s, f, kCheapSeeds);
  const double bo = mean_incumbent("bo (thompson)", "bo", thompson, *s, f, kBoSeeds);
  EXPECT_GT(bo - random, 1.5);
}

INSTANTIATE_TEST_SUITE_P(Spaces, StrategySearchTest,
                         ::testing::Values("chain", "multibranch", "darts-cell"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace fusenas::nas::strategy
