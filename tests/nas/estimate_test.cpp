// The performance estimators' pure logic against independent truth: Hyperband's brackets against
// the paper's Table 1 and hand-worked tables, the ask/tell scheduler's promotions on a synthetic
// objective, learning-curve extrapolation on synthetic curves of known families, and the rank
// metrics on hand-worked examples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <vector>

#include "fusenas/nas/estimate/curve_extrapolation.h"
#include "fusenas/nas/estimate/hyperband.h"
#include "fusenas/nas/estimate/rank_metrics.h"
#include "support/expect.h"

namespace fusenas::nas::estimate {
namespace {

using testing::expect_error;

// ---------------------------------------------------------------------------------------------
// Hyperband brackets

struct Row {
  int64_t n;
  double r;
};

void expect_bracket(const Bracket& b, int s, const std::vector<Row>& rows) {
  EXPECT_EQ(b.s, s);
  ASSERT_EQ(b.rungs.size(), rows.size()) << "s = " << s;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(b.rungs[i].n, rows[i].n) << "s = " << s << " i = " << i;
    EXPECT_DOUBLE_EQ(b.rungs[i].r, rows[i].r) << "s = " << s << " i = " << i;
  }
}

// Li et al. 2017, Table 1: R = 81, eta = 3 (r_min = 1).
TEST(Hyperband, BracketsMatchPaperTable1) {
  EXPECT_EQ(hyperband_s_max(81, 3), 4);
  const auto b = hyperband_brackets(81, 3);
  ASSERT_EQ(b.size(), 5u);
  expect_bracket(b[0], 4, {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}});
  expect_bracket(b[1], 3, {{34, 3}, {11, 9}, {3, 27}, {1, 81}});
  expect_bracket(b[2], 2, {{15, 9}, {5, 27}, {1, 81}});
  expect_bracket(b[3], 1, {{8, 27}, {2, 81}});
  expect_bracket(b[4], 0, {{5, 81}});
  // sum n_i r_i, by hand from the table: 5 * 81; 102 + 99 + 81 + 81; 135 + 135 + 81; 216 + 162;
  // 5 * 81.
  const std::vector<double> budgets = {405, 363, 351, 378, 405};
  for (size_t s = 0; s < b.size(); ++s) EXPECT_DOUBLE_EQ(b[s].budget(), budgets[s]);
}

// Worked by hand from Algorithm 1: R = 27, eta = 3 gives s_max = 3 and
//   s = 3: n = ceil(4/4 * 27) = 27, r = 1;   s = 2: n = ceil(4/3 * 9) = 12, r = 3;
//   s = 1: n = ceil(4/2 * 3) = 6, r = 9;     s = 0: n = 4, r = 27.
TEST(Hyperband, BracketsR27Eta3ByHand) {
  const auto b = hyperband_brackets(27, 3);
  ASSERT_EQ(b.size(), 4u);
  expect_bracket(b[0], 3, {{27, 1}, {9, 3}, {3, 9}, {1, 27}});
  expect_bracket(b[1], 2, {{12, 3}, {4, 9}, {1, 27}});
  expect_bracket(b[2], 1, {{6, 9}, {2, 27}});
  expect_bracket(b[3], 0, {{4, 27}});
  const std::vector<double> budgets = {108, 99, 108, 108};
  for (size_t s = 0; s < b.size(); ++s) EXPECT_DOUBLE_EQ(b[s].budget(), budgets[s]);
}

// R = 9, eta = 3: s = 2: n = 9, r = 1; s = 1: n = ceil(3/2 * 3) = 5, r = 3; s = 0: n = 3, r = 9.
// With r_min = 2, R = 18 the table is the same with every resource doubled.
TEST(Hyperband, BracketsR9Eta3ByHandAndScaled) {
  for (double scale : {1.0, 2.0}) {
    const auto b = hyperband_brackets(9 * scale, 3, scale);
    ASSERT_EQ(b.size(), 3u);
    expect_bracket(b[0], 2, {{9, 1 * scale}, {3, 3 * scale}, {1, 9 * scale}});
    expect_bracket(b[1], 1, {{5, 3 * scale}, {1, 9 * scale}});
    expect_bracket(b[2], 0, {{3, 9 * scale}});
    EXPECT_DOUBLE_EQ(b[0].budget(), 27 * scale);
    EXPECT_DOUBLE_EQ(b[1].budget(), 24 * scale);
    EXPECT_DOUBLE_EQ(b[2].budget(), 27 * scale);
  }
}

TEST(Hyperband, SMaxNeedsNoFloatingPointLog) {
  // In double, log(243) / log(3) = 4.999999999999999 and 8.1 / 0.1 = 80.99999999999999 (checked
  // with Python's math.log): floor(log_eta(R / r_min)) would say 4 and 3.
  EXPECT_EQ(hyperband_s_max(243, 3), 5);
  EXPECT_EQ(hyperband_s_max(2.43, 3, 0.01), 5);
  EXPECT_EQ(hyperband_s_max(8.1, 3, 0.1), 4);
  EXPECT_EQ(hyperband_s_max(59049, 3), 10);
  EXPECT_EQ(hyperband_s_max(0.3 * 3 * 3 * 3, 3, 0.3), 3);
  EXPECT_EQ(hyperband_s_max(80.9, 3), 3);
  EXPECT_EQ(hyperband_s_max(1, 3), 0);
  EXPECT_EQ(hyperband_s_max(1000, 10), 3);
  EXPECT_EQ(hyperband_s_max(1024, 2), 10);
  // R not a power of eta: s_max = 4 and r_0 = R / 81.
  const auto b = hyperband_brackets(100, 3);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[0].rungs[0].n, 81);
  EXPECT_DOUBLE_EQ(b[0].rungs[0].r, 100.0 / 81);
  EXPECT_DOUBLE_EQ(b[0].rungs.back().r, 100);

  expect_error([] { hyperband_s_max(81, 1); }, {"eta"});
  expect_error([] { hyperband_s_max(1, 3, 2); }, {"below"});
  expect_error([] { hyperband_s_max(81, 3, 0); }, {"r_min"});
  expect_error([] { hyperband_s_max(std::nan(""), 3); }, {"R"});
  expect_error([] { hyperband_s_max(1e300, 3); }, {"too large"});
}

TEST(Hyperband, SuccessiveHalvingBracket) {
  expect_bracket(successive_halving_bracket(27, 1, 3), 3, {{27, 1}, {9, 3}, {3, 9}, {1, 27}});
  // 10 configurations: 3^2 <= 10 < 3^3, so three rungs and one survivor.
  expect_bracket(successive_halving_bracket(10, 1, 3), 2, {{10, 1}, {3, 3}, {1, 9}});
  // Capped at R = 3: only two rungs.
  expect_bracket(successive_halving_bracket(10, 1, 3, 3.0), 1, {{10, 1}, {3, 3}});
  expect_bracket(successive_halving_bracket(16, 0.5, 2), 4,
                 {{16, 0.5}, {8, 1}, {4, 2}, {2, 4}, {1, 8}});
  expect_bracket(successive_halving_bracket(1, 5, 3), 0, {{1, 5}});
  expect_error([] { successive_halving_bracket(0, 1, 3); }, {"n = 0"});
}

// ---------------------------------------------------------------------------------------------
// The ask/tell scheduler

// Runs every job of `s` one at a time in the order asked, scoring with `score`.
std::vector<Job> run_sequentially(HyperbandScheduler& s,
                                  const std::function<std::optional<double>(const Job&)>& score) {
  std::vector<Job> jobs;
  while (!s.finished()) {
    auto job = s.ask();
    if (!job) {
      ADD_FAILURE() << "nothing to run and nothing running";
      break;
    }
    jobs.push_back(*job);
    s.tell(*job, score(*job));
  }
  return jobs;
}

// Successive halving over 9 configurations (9 @ 1, 3 @ 3, 1 @ 9), scores picked by hand.
TEST(HyperbandScheduler, SuccessiveHalvingPromotesTheHandPickedConfigs) {
  const std::vector<double> rung0 = {0.50, 0.80, 0.30, 0.90, 0.70, 0.10, 0.85, 0.60, 0.20};
  // At resource 3 the order of the three survivors (3, 6, 1) changes: 6 is best.
  const std::map<int64_t, double> rung1 = {{3, 0.91}, {6, 0.95}, {1, 0.93}};
  auto s = HyperbandScheduler::successive_halving(9, 1, 3);
  const auto jobs = run_sequentially(s, [&](const Job& j) -> std::optional<double> {
    if (j.rung == 0) return rung0[j.config];
    if (j.rung == 1) return rung1.at(j.config);
    return 0.96;
  });
  ASSERT_EQ(jobs.size(), 13u);
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(jobs[i].config, i);
    EXPECT_TRUE(jobs[i].new_config);
    EXPECT_EQ(jobs[i].resource, 1);
  }
  // Top floor(9 / 3) = 3 of rung 0, best first: 3 (0.90), 6 (0.85), 1 (0.80).
  EXPECT_EQ(s.rung_configs(0, 1), (std::vector<int64_t>{3, 6, 1}));
  for (int i = 9; i < 12; ++i) {
    EXPECT_FALSE(jobs[i].new_config);
    EXPECT_EQ(jobs[i].resource, 3);
  }
  EXPECT_EQ(s.rung_configs(0, 2), (std::vector<int64_t>{6}));
  EXPECT_EQ(jobs[12].config, 6);
  EXPECT_EQ(jobs[12].resource, 9);
  ASSERT_TRUE(s.best());
  EXPECT_EQ(s.best()->job.config, 6);
  EXPECT_DOUBLE_EQ(*s.best()->score, 0.96);
  EXPECT_EQ(s.configs(), 9);
  EXPECT_EQ(s.results().size(), 13u);
}

// Failed trials (no score, NaN, inf) rank below every scored one and are never promoted.
TEST(HyperbandScheduler, FailuresAreWorstAndNeverPromoted) {
  const std::vector<double> rung0 = {0.50, 0.80, 0.30, 0.90, 0.70, 0.10, 0.85, 0.60, 0.20};
  auto s = HyperbandScheduler::successive_halving(9, 1, 3);
  const auto jobs = run_sequentially(s, [&](const Job& j) -> std::optional<double> {
    if (j.rung == 0) {
      if (j.config == 3) return std::nullopt;  // the best would-be score fails
      if (j.config == 6) return std::numeric_limits<double>::quiet_NaN();  // diverged
      if (j.config == 1) return std::numeric_limits<double>::infinity();   // not a score either
      return rung0[j.config];
    }
    return 0.5 + 0.01 * static_cast<double>(j.config);
  });
  // The top 3 of the successful: 4 (0.70), 7 (0.60), 0 (0.50).
  EXPECT_EQ(s.rung_configs(0, 1), (std::vector<int64_t>{4, 7, 0}));
  EXPECT_EQ(s.rung_configs(0, 2), (std::vector<int64_t>{7}));
  EXPECT_FALSE(s.results()[6].score.has_value());  // NaN recorded as a failure
  EXPECT_FALSE(s.results()[1].score.has_value());  // and inf

  // Only two successes where three would be promoted: both go on, failures stay behind; and a
  // rung where every trial fails ends the bracket.
  auto t = HyperbandScheduler::successive_halving(9, 1, 3);
  run_sequentially(t, [](const Job& j) -> std::optional<double> {
    if (j.rung == 0 && (j.config == 2 || j.config == 5)) return 0.1 * static_cast<double>(j.config);
    if (j.rung == 0) return std::nullopt;
    return std::nullopt;
  });
  EXPECT_EQ(t.rung_configs(0, 1), (std::vector<int64_t>{5, 2}));
  EXPECT_TRUE(t.rung_configs(0, 2).empty());
  EXPECT_TRUE(t.finished());
  // Nothing succeeded beyond rung 0, so the best is config 5 at resource 1.
  ASSERT_TRUE(t.best());
  EXPECT_EQ(t.best()->job.config, 5);
  EXPECT_EQ(t.best()->job.resource, 1);
  EXPECT_EQ(t.results().size(), 11u);
}

TEST(HyperbandScheduler, TiesPromoteTheSmallerConfigId) {
  auto s = HyperbandScheduler::successive_halving(3, 1, 3);
  run_sequentially(s, [](const Job& j) -> std::optional<double> {
    return j.config == 0 ? 0.1 : 0.5;  // 1 and 2 tie
  });
  EXPECT_EQ(s.rung_configs(0, 1), (std::vector<int64_t>{1}));
}

// Full Hyperband (R = 27, eta = 3) on a synthetic objective: every rung i + 1 is exactly the top
// floor(n_i / eta) of rung i (recomputed here from the told scores), each rung has the bracket's
// size, new configurations get fresh ids, and the resource spent is the sum of the brackets'
// budgets (108 + 99 + 108 + 108).
TEST(HyperbandScheduler, HyperbandPromotesEachRungsTop) {
  auto s = HyperbandScheduler::hyperband(27, 3);
  // A fixed pseudo-random quality per config, improving with the resource but not uniformly, so
  // the order changes between rungs.
  auto quality = [](int64_t c, double r) {
    const double base = static_cast<double>((c * 37 + 11) % 53) / 53.0;
    return base * 0.5 + 0.5 * static_cast<double>((c * 13) % 7) / 7.0 * std::log(1 + r) / 4;
  };
  const auto jobs =
      run_sequentially(s, [&](const Job& j) { return quality(j.config, j.resource); });
  double spent = 0;
  for (const Job& j : jobs) spent += j.resource;
  EXPECT_DOUBLE_EQ(spent, 108 + 99 + 108 + 108);
  EXPECT_EQ(s.configs(), 27 + 12 + 6 + 4);
  std::set<int64_t> seen;
  for (size_t b = 0; b < s.brackets().size(); ++b) {
    const Bracket& br = s.brackets()[b];
    for (size_t i = 0; i < br.rungs.size(); ++i) {
      const auto configs = s.rung_configs(static_cast<int>(b), static_cast<int>(i));
      EXPECT_EQ(static_cast<int64_t>(configs.size()), br.rungs[i].n);
      if (i == 0) {
        for (int64_t c : configs) EXPECT_TRUE(seen.insert(c).second) << "config reused " << c;
        continue;
      }
      // Independent recomputation: the previous rung's configs sorted by their score there.
      auto prev = s.rung_configs(static_cast<int>(b), static_cast<int>(i - 1));
      const double r = br.rungs[i - 1].r;
      std::sort(prev.begin(), prev.end(), [&](int64_t x, int64_t y) {
        const double qx = quality(x, r), qy = quality(y, r);
        return qx != qy ? qx > qy : x < y;
      });
      prev.resize(configs.size());
      EXPECT_EQ(configs, prev) << "bracket " << b << " rung " << i;
    }
  }
  // The best is at R = 27, the best of the 1 + 1 + 2 + 4 results there.
  ASSERT_TRUE(s.best());
  EXPECT_EQ(s.best()->job.resource, 27);
  double top = 0;
  for (const Result& r : s.results()) {
    if (r.job.resource == 27) top = std::max(top, *r.score);
  }
  EXPECT_EQ(*s.best()->score, top);
}

TEST(HyperbandScheduler, ParallelAsksWaitForTheRungAndCanOverlapBrackets) {
  auto s = HyperbandScheduler::hyperband(9, 3);
  std::vector<Job> running;
  for (int i = 0; i < 9; ++i) running.push_back(*s.ask());
  EXPECT_FALSE(s.ask().has_value());  // rung 0 of bracket 0 is out; rung 1 needs its results
  EXPECT_EQ(s.running(), 9);
  // Results in reverse order: the promotion waits for the last one.
  for (int i = 8; i >= 1; --i) s.tell(running[i], 0.1 * i);
  EXPECT_FALSE(s.ask().has_value());
  s.tell(running[0], 0.0);
  auto next = s.ask();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->config, 8);
  EXPECT_EQ(next->rung, 1);
  EXPECT_EQ(next->resource, 3);
  // Telling a job twice, or one never handed out, is an error.
  expect_error([&] { s.tell(running[0], 0.5); }, {"not running"});
  Job bogus = *next;
  bogus.config = 0;
  expect_error([&] { s.tell(bogus, 0.5); }, {"not handed out"});

  HyperbandOptions overlap;
  overlap.overlap_brackets = true;
  auto o = HyperbandScheduler::hyperband(9, 3, 1, overlap);
  int asked = 0;
  while (o.ask()) ++asked;
  // All of rung 0 of every bracket: 9 + 5 + 3.
  EXPECT_EQ(asked, 17);
  EXPECT_EQ(o.running(), 17);
  // Finishing it, first in first out, makes the same promotions as running it sequentially.
  auto score = [](const Job& j) { return static_cast<double>((j.config * 5) % 11) + j.resource; };
  std::vector<Job> queue;
  for (int64_t c = 0; c < 17; ++c) {
    const auto& r = o.rung_configs(c < 9 ? 0 : c < 14 ? 1 : 2, 0);
    EXPECT_NE(std::find(r.begin(), r.end(), c), r.end());
  }
  for (const auto& b : {0, 1, 2}) {
    for (int64_t c : o.rung_configs(b, 0))
      queue.push_back({c, b, 0, o.brackets()[b].rungs[0].r, true});
  }
  int jobs = 17;
  while (!queue.empty()) {
    const Job j = queue.front();
    queue.erase(queue.begin());
    o.tell(j, score(j));
    while (auto more = o.ask()) {
      queue.push_back(*more);
      ++jobs;
    }
  }
  EXPECT_TRUE(o.finished());
  EXPECT_EQ(jobs, 9 + 3 + 1 + 5 + 1 + 3);
  auto seq = HyperbandScheduler::hyperband(9, 3);
  run_sequentially(seq, score);
  for (int b = 0; b < 3; ++b) {
    for (int i = 0; i < static_cast<int>(seq.brackets()[b].rungs.size()); ++i) {
      EXPECT_EQ(o.rung_configs(b, i), seq.rung_configs(b, i)) << b << " " << i;
    }
  }
  EXPECT_EQ(o.running(), 0);
}

// ---------------------------------------------------------------------------------------------
// Learning-curve extrapolation

// A fixed Gaussian noise stream (splitmix64 + Box-Muller), independent of the library's.
std::vector<double> noise(size_t n, double std, uint64_t seed) {
  auto next = [&seed] {
    uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  };
  std::vector<double> out(n);
  for (double& v : out) {
    const double u1 = std::max(next(), 1e-300), u2 = next();
    v = std * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  return out;
}

struct Synthetic {
  const char* name;
  std::function<double(double)> f;  // written here from the papers' formulas, not the library's
};

std::vector<Synthetic> synthetic_curves() {
  return {
      {"pow3", [](double x) { return 0.88 - 0.55 * std::pow(x, -0.8); }},
      {"janoschek",
       [](double x) { return 0.91 - (0.91 - 0.2) * std::exp(-0.25 * std::pow(x, 0.8)); }},
      {"weibull",
       [](double x) { return 0.86 - (0.86 - 0.1) * std::exp(-std::pow(0.15 * x, 0.9)); }},
      {"mmf", [](double x) { return 0.93 - (0.93 - 0.15) / (1 + std::pow(0.3 * x, 1.2)); }},
      {"exp4", [](double x) { return 0.84 - std::exp(-0.5 * std::pow(x, 0.6) + 0.1); }},
      {"log_log_linear", [](double x) { return std::log(0.2 * std::log(x) + 1.5); }},
  };
}

std::vector<double> sample(const std::function<double(double)>& f, size_t k, double noise_std,
                           uint64_t seed) {
  const auto eps = noise(k, noise_std, seed);
  std::vector<double> y(k);
  for (size_t i = 0; i < k; ++i) {
    y[i] = std::clamp(f(static_cast<double>(i + 1)) + eps[i], 0.0, 1.0);
  }
  return y;
}

TEST(CurveExtrapolation, HasThePapersFamilies) {
  const auto f = curve_families();
  for (const char* name : {"vapor_pressure", "pow3", "log_log_linear", "hill3", "log_power", "pow4",
                           "mmf", "exp3", "exp4", "janoschek", "weibull", "ilog2"}) {
    EXPECT_NE(std::find(f.begin(), f.end(), name), f.end()) << name;
  }
}

// The stated accuracy (curve_extrapolation.h): six families, noise std 0.003, seeds 10 and 11,
// m = 50 and 100. From k = 15 or 20 epochs every prediction is within 0.06 of the truth and the
// mean absolute error is below 0.025; from k = 10 within 0.08; always within 3 predicted standard
// deviations. Achieved when written: k >= 15 mean |error| 0.0131, max 0.0454; k = 10 max 0.0699;
// max |error| / std 1.98 (printed by the test).
TEST(CurveExtrapolation, RecoversSyntheticCurvesWithinTheStatedError) {
  double sum_err = 0, max_err_long = 0, max_err_short = 0, max_z = 0;
  int count_long = 0;
  for (const auto& c : synthetic_curves()) {
    for (uint64_t seed : {10, 11}) {
      for (size_t k : {10, 15, 20}) {
        const auto y = sample(c.f, k, 0.003, seed);
        for (int m : {50, 100}) {
          const auto p = extrapolate_curve(y, m);
          ASSERT_FALSE(p.fits.empty());
          ASSERT_FALSE(p.fallback);
          const double err = std::abs(p.mean - c.f(m));
          const double tol = k >= 15 ? 0.06 : 0.08;
          EXPECT_LE(err, tol) << c.name << " seed " << seed << " k " << k << " m " << m;
          EXPECT_LE(err, 3 * p.std) << c.name << " seed " << seed << " k " << k << " m " << m;
          max_z = std::max(max_z, err / p.std);
          if (k >= 15) {
            sum_err += err;
            ++count_long;
            max_err_long = std::max(max_err_long, err);
          } else {
            max_err_short = std::max(max_err_short, err);
          }
        }
      }
    }
  }
  EXPECT_LE(sum_err / count_long, 0.025);
  std::printf("k >= 15: mean |error| %.4f, max %.4f; k = 10: max %.4f; max |error| / std %.2f\n",
              sum_err / count_long, max_err_long, max_err_short, max_z);
}

// Extrapolating from 5 epochs is less certain than from 10, and from 10 less than from 20 (seed
// 10, m = 100; the stds printed were e.g. pow3 0.030 > 0.018 > 0.010, mmf 0.103 > 0.049 >
// 0.018).
TEST(CurveExtrapolation, UncertaintyGrowsForShorterPrefixes) {
  for (const auto& c : synthetic_curves()) {
    std::vector<double> stds;
    for (size_t k : {5, 10, 20}) {
      stds.push_back(extrapolate_curve(sample(c.f, k, 0.003, 10), 100).std);
    }
    std::printf("%-16s std at k = 5, 10, 20: %.4f %.4f %.4f\n", c.name, stds[0], stds[1], stds[2]);
    EXPECT_GT(stds[0], stds[1]) << c.name;
    EXPECT_GT(stds[1], stds[2]) << c.name;
  }
}

// Against an incumbent of 0.85 at epoch 100, after 15 epochs: a curve heading for 0.70 has a
// negligible chance and is pruned; one heading for 0.95 is almost sure to beat it; one heading
// for exactly 0.85 is a coin toss.
TEST(CurveExtrapolation, ProbabilityOfBeatingTheIncumbent) {
  auto pow3 = [](double c, double a) {
    return [c, a](double x) { return c - a * std::pow(x, -0.7); };
  };
  const auto worse = sample(pow3(0.70, 0.45), 15, 0.003, 21);
  const auto better = sample(pow3(0.95, 0.60), 15, 0.003, 22);
  const auto even = sample(pow3(0.85 + 0.5 * std::pow(100.0, -0.7), 0.5), 15, 0.003, 23);
  const double p_worse = probability_of_exceeding(worse, 100, 0.85);
  const double p_better = probability_of_exceeding(better, 100, 0.85);
  const double p_even = probability_of_exceeding(even, 100, 0.85);
  std::printf("P(beats 0.85): worse %.3g, better %.3g, even %.3g\n", p_worse, p_better, p_even);
  EXPECT_LT(p_worse, 0.01);
  EXPECT_GT(p_better, 0.95);
  EXPECT_GT(p_even, 0.15);
  EXPECT_LT(p_even, 0.85);

  const auto prune = should_prune(worse, 100, 0.85);
  EXPECT_TRUE(prune.prune);
  EXPECT_DOUBLE_EQ(prune.probability, p_worse);
  EXPECT_LT(prune.prediction.mean, 0.75);
  EXPECT_FALSE(should_prune(better, 100, 0.85).prune);
  EXPECT_FALSE(should_prune(even, 100, 0.85).prune);
  // The paper's 0.05 is only the default.
  EXPECT_FALSE(should_prune(worse, 100, 0.85, 0.0).prune);
}

TEST(CurveExtrapolation, MixtureIsConsistent) {
  const auto y = sample(synthetic_curves()[0].f, 12, 0.003, 5);
  const auto p = extrapolate_curve(y, 60);
  double total = 0;
  for (const auto& f : p.fits) {
    total += f.weight;
    EXPECT_GT(f.std, 0);
    EXPECT_GE(f.mean, 0);
    EXPECT_LE(f.mean, 1);
  }
  EXPECT_NEAR(total, 1, 1e-12);
  for (size_t i = 1; i < p.fits.size(); ++i) EXPECT_GE(p.fits[i - 1].weight, p.fits[i].weight);
  // P(y > t) falls with t from 1 to 0 and is about a half at the mean.
  EXPECT_NEAR(p.probability_above(-10), 1, 1e-12);
  EXPECT_NEAR(p.probability_above(10), 0, 1e-12);
  double prev = 1;
  for (double t = 0.5; t <= 1.0; t += 0.01) {
    const double q = p.probability_above(t);
    EXPECT_LE(q, prev + 1e-15);
    prev = q;
  }
  EXPECT_NEAR(p.probability_above(p.mean), 0.5, 0.15);
  // Deterministic: the random starts come from the seed.
  EXPECT_EQ(extrapolate_curve(y, 60).mean, p.mean);
  // A subset of the families.
  CurveOptions only;
  only.families = {"pow3", "ilog2"};
  const auto q = extrapolate_curve(y, 60, only);
  ASSERT_EQ(q.fits.size(), 2u);
  EXPECT_NEAR(q.mean, synthetic_curves()[0].f(60), 0.03);
}

TEST(CurveExtrapolation, DegenerateInput) {
  const std::vector<double> two = {0.1, 0.2};
  expect_error([&] { extrapolate_curve(two, 50); }, {"at least 3"});
  const std::vector<double> nan = {0.1, std::nan(""), 0.3};
  expect_error([&] { extrapolate_curve(nan, 50); }, {"epoch 2", "[0, 1]"});
  const std::vector<double> percent = {10, 20, 30};
  expect_error([&] { extrapolate_curve(percent, 50); }, {"epoch 1", "[0, 1]"});
  const std::vector<double> ok = {0.1, 0.2, 0.25, 0.28};
  expect_error([&] { extrapolate_curve(ok, 0); }, {">= 1"});
  CurveOptions bad;
  bad.families = {"pow3", "cubic"};
  expect_error([&] { extrapolate_curve(ok, 50, bad); }, {"unknown curve family 'cubic'"});

  // A constant curve stays constant.
  const std::vector<double> flat(8, 0.1);
  const auto p = extrapolate_curve(flat, 100);
  EXPECT_EQ(p.mean, 0.1);
  EXPECT_EQ(p.std, CurveOptions{}.min_noise_std);
  EXPECT_TRUE(p.fits.empty());
  EXPECT_TRUE(should_prune(flat, 100, 0.5).prune);
  EXPECT_FALSE(should_prune(flat, 100, 0.05).prune);

  // Three points fit the 2-parameter families only (the others need a residual degree of
  // freedom), and still predict.
  const std::vector<double> three = {0.3, 0.5, 0.6};
  const auto t = extrapolate_curve(three, 20);
  EXPECT_FALSE(t.fits.empty());
  for (const auto& f : t.fits) EXPECT_TRUE(f.family == "log_log_linear" || f.family == "ilog2");

  // When no family obeys the constraints (log-log-linear alone, climbing fast, would pass 1
  // long before epoch 10^6) the prediction falls back to an uninformative one that never prunes.
  CurveOptions loglog;
  loglog.families = {"log_log_linear"};
  const std::vector<double> fast = {0.3, 0.5, 0.6, 0.67, 0.72, 0.76};
  const auto f = extrapolate_curve(fast, 1000000, loglog);
  EXPECT_TRUE(f.fallback);
  EXPECT_TRUE(f.fits.empty());
  EXPECT_EQ(f.mean, 0.76);
  EXPECT_EQ(f.std, 1);
  EXPECT_FALSE(should_prune(fast, 1000000, 0.99, 0.05, loglog).prune);
}

// ---------------------------------------------------------------------------------------------
// Rank metrics

// Recorded real curves: the search-val accuracy (%) after each of 10 epochs of the 40 random
// chains of runs/ref-chain (nas_search --strategy random --space chain --budget-trials 40
// --epochs 10 --seed 1, Fashion-MNIST, 5,000 + 5,000 images, 2026-12-07), in trial order.
constexpr double kRealChainCurves[40][10] = {
    {37.22, 71.96, 63.54, 76.60, 77.50, 75.92, 81.26, 81.32, 83.16, 83.34},
    {33.08, 39.40, 43.12, 50.14, 54.68, 52.66, 55.38, 55.98, 57.28, 58.24},
    {45.78, 75.66, 80.42, 76.88, 80.00, 83.62, 83.44, 85.08, 85.14, 85.36},
    {59.22, 69.50, 66.80, 73.40, 75.32, 75.42, 79.94, 80.90, 81.38, 81.62},
    {28.00, 50.86, 46.62, 52.00, 51.62, 49.64, 56.84, 59.14, 61.04, 64.98},
    {57.52, 72.06, 65.50, 72.48, 69.00, 76.52, 73.76, 82.80, 84.62, 85.58},
    {25.34, 25.78, 23.18, 25.04, 24.82, 25.04, 24.80, 25.30, 24.56, 25.44},
    {61.56, 81.54, 80.84, 77.38, 83.50, 83.02, 86.84, 87.78, 87.10, 87.66},
    {23.20, 26.42, 56.72, 38.92, 47.74, 58.30, 64.60, 74.56, 78.88, 79.86},
    {46.84, 54.84, 48.56, 41.74, 53.42, 61.28, 66.14, 67.20, 68.62, 72.48},
    {42.44, 33.30, 57.92, 43.86, 58.08, 63.36, 70.48, 69.66, 73.32, 74.52},
    {61.40, 70.08, 64.34, 65.40, 78.20, 77.56, 79.18, 80.72, 80.28, 81.18},
    {34.80, 42.44, 29.08, 68.16, 54.20, 71.02, 71.06, 66.70, 74.58, 77.52},
    {66.18, 69.08, 80.56, 80.24, 83.78, 83.08, 85.70, 87.04, 87.00, 87.40},
    {66.58, 51.24, 71.20, 74.16, 82.82, 81.92, 84.96, 84.56, 85.46, 85.68},
    {38.66, 43.02, 50.30, 50.84, 54.96, 55.16, 58.34, 57.42, 59.12, 59.10},
    {47.64, 53.76, 56.40, 59.56, 58.12, 70.44, 72.66, 73.70, 77.16, 78.44},
    {16.10, 76.08, 70.78, 78.66, 80.30, 82.36, 83.82, 83.72, 84.86, 85.06},
    {56.22, 58.00, 59.68, 70.62, 73.46, 73.16, 74.64, 75.76, 80.30, 81.00},
    {30.72, 44.90, 38.02, 58.78, 53.82, 60.30, 60.56, 67.62, 72.38, 73.66},
    {52.90, 47.64, 60.32, 63.20, 58.24, 74.46, 71.52, 77.06, 79.24, 79.52},
    {47.80, 68.24, 73.68, 73.50, 79.14, 74.82, 79.74, 80.00, 81.16, 81.40},
    {32.84, 52.34, 50.78, 58.10, 49.58, 63.52, 57.08, 77.70, 77.72, 79.04},
    {62.18, 68.06, 72.54, 77.24, 81.80, 80.30, 85.14, 85.78, 85.88, 86.24},
    {21.38, 25.80, 49.36, 47.70, 59.08, 59.36, 60.30, 55.70, 62.54, 65.80},
    {56.08, 71.76, 72.14, 79.76, 79.00, 84.44, 83.26, 83.48, 85.06, 85.46},
    {35.04, 42.22, 44.60, 50.40, 53.32, 55.16, 57.66, 57.14, 58.08, 58.58},
    {63.76, 62.44, 78.72, 79.16, 80.60, 82.44, 83.64, 83.60, 83.84, 83.74},
    {41.66, 48.74, 42.28, 59.28, 68.04, 61.32, 62.44, 77.12, 78.42, 81.28},
    {25.38, 26.44, 24.40, 27.98, 26.86, 27.76, 28.42, 29.20, 28.54, 29.04},
    {38.72, 42.80, 53.74, 46.58, 54.22, 59.20, 60.40, 58.46, 64.14, 65.42},
    {25.66, 25.96, 23.52, 25.94, 26.24, 25.60, 26.24, 27.24, 26.78, 27.80},
    {42.14, 51.62, 74.56, 72.12, 76.72, 79.36, 80.60, 81.20, 82.16, 82.44},
    {40.16, 25.36, 59.84, 64.42, 40.74, 71.26, 62.90, 66.46, 75.18, 75.40},
    {54.26, 57.34, 67.34, 71.16, 72.70, 77.16, 78.60, 79.00, 79.86, 80.06},
    {25.24, 25.96, 23.70, 26.12, 25.66, 25.86, 25.22, 26.16, 25.80, 26.36},
    {53.14, 68.98, 68.30, 65.48, 72.98, 64.06, 74.86, 79.40, 80.98, 82.20},
    {47.00, 52.06, 36.54, 64.58, 60.88, 64.58, 58.58, 67.92, 70.02, 72.72},
    {72.34, 77.36, 76.08, 78.10, 81.40, 81.22, 82.46, 83.08, 83.50, 83.72},
    {28.50, 58.58, 36.80, 38.04, 66.02, 68.92, 69.62, 68.96, 73.84, 73.64},
};

// Learning-curve pruning as nas_search --estimator curve runs it over those trials in order (a
// trial is checked after each of epochs 3 to 9 against the best final accuracy of the trials
// not pruned before it; the paper's threshold 0.05): the trial that wins when every trial
// trains to the end is never pruned, so the search finds the same best chain.
TEST(CurveExtrapolation, PruningNeverStopsTheWinnerOfRecordedRealCurves) {
  int winner = 0;
  for (int t = 1; t < 40; ++t)
    if (kRealChainCurves[t][9] > kRealChainCurves[winner][9]) winner = t;
  std::optional<double> incumbent;
  int pruned = 0, epochs = 0;
  for (int t = 0; t < 40; ++t) {
    int stopped_at = 10;
    for (int k = 3; k < 10 && incumbent && stopped_at == 10; ++k) {
      std::vector<double> y;
      for (int e = 0; e < k; ++e) y.push_back(kRealChainCurves[t][e] / 100);
      if (should_prune(y, 10, *incumbent / 100, 0.05).prune) stopped_at = k;
    }
    epochs += stopped_at;
    if (stopped_at < 10) {
      ++pruned;
      EXPECT_NE(t, winner) << "the winner was pruned after " << stopped_at << " epochs";
      continue;
    }
    incumbent = std::max(incumbent.value_or(0), kRealChainCurves[t][9]);
  }
  EXPECT_EQ(*incumbent, kRealChainCurves[winner][9]);
  EXPECT_GT(pruned, 0);  // the rule does stop trials on these curves
  std::printf("pruned %d of 40 trials; %d of 400 epochs trained\n", pruned, epochs);
}

TEST(RankMetrics, HandWorkedWithoutTies) {
  // x = 1..4, y = 1 3 2 4: of the 6 pairs only (2, 3) is discordant: tau = (5 - 1) / 6.
  // Ranks differ by d = 0 -1 1 0: rho = 1 - 6 * 2 / (4 * 15) = 0.8.
  const std::vector<double> x = {1, 2, 3, 4}, y = {1, 3, 2, 4};
  EXPECT_DOUBLE_EQ(kendall_tau(x, y), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, y), 0.8);
  const std::vector<double> rev = {4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(kendall_tau(x, rev), -1);
  EXPECT_DOUBLE_EQ(spearman_rho(x, rev), -1);
  EXPECT_DOUBLE_EQ(kendall_tau(x, x), 1);
  // Only the ranks matter.
  const std::vector<double> y2 = {0.1, 0.9, 0.5, 7};
  EXPECT_DOUBLE_EQ(kendall_tau(x, y2), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, y2), 0.8);
}

TEST(RankMetrics, HandWorkedWithTies) {
  // x = 1 2 2 3, y = 1 2 3 3: 4 concordant, 0 discordant, one pair tied in x (2, 3) and one in
  // y (3, 4): tau_b = 4 / sqrt((6 - 1) (6 - 1)) = 0.8.
  // Average ranks: x -> 1 2.5 2.5 4, y -> 1 2 3.5 3.5; centred (mean 2.5) their products sum to
  // 3.75 and their squares to 4.5 each: rho = 3.75 / 4.5 = 5 / 6.
  const std::vector<double> x = {1, 2, 2, 3}, y = {1, 2, 3, 3};
  EXPECT_DOUBLE_EQ(kendall_tau(x, y), 0.8);
  EXPECT_DOUBLE_EQ(spearman_rho(x, y), 5.0 / 6.0);
  // A pair tied in both counts in both t_x and t_y: x = 1 1 2, y = 5 5 6 has C = 2, D = 0,
  // t_x = t_y = 1: tau_b = 2 / sqrt(2 * 2) = 1.
  const std::vector<double> a = {1, 1, 2}, b = {5, 5, 6};
  EXPECT_DOUBLE_EQ(kendall_tau(a, b), 1);
  EXPECT_DOUBLE_EQ(spearman_rho(a, b), 1);
  // Larger, by hand: x = 1..6, y = 2 1 2 4 3 4. Pairs (i < j): concordant 11, discordant 2
  // ((1,2) and (4,5)), tied in y 2 ((1,3), (4,6)), none in x: tau_b = 9 / sqrt(15 * 13).
  // Ranks of y: 2.5 1 2.5 5.5 4 5.5; centred (mean 3.5) against x's -2.5..2.5 step 1:
  // sum xy = 2.5 + 3.75 + 0.5 + 1 + 0.75 + 5 = 13.5 (terms -2.5*-1, -1.5*-2.5, -0.5*-1, 0.5*2,
  // 1.5*0.5, 2.5*2); sum xx = 17.5; sum yy = 1 + 6.25 + 1 + 4 + 0.25 + 4 = 16.5.
  const std::vector<double> x6 = {1, 2, 3, 4, 5, 6}, y6 = {2, 1, 2, 4, 3, 4};
  EXPECT_DOUBLE_EQ(kendall_tau(x6, y6), 9 / std::sqrt(15.0 * 13.0));
  EXPECT_NEAR(spearman_rho(x6, y6), 13.5 / std::sqrt(17.5 * 16.5), 1e-15);
  // A constant sequence has no ranking: NaN (as scipy).
  const std::vector<double> c = {3, 3, 3, 3};
  EXPECT_TRUE(std::isnan(kendall_tau(x, c)));
  EXPECT_TRUE(std::isnan(spearman_rho(c, y)));
}

TEST(RankMetrics, TopKRecall) {
  const std::vector<double> pred = {0.9, 0.1, 0.8, 0.7, 0.2};
  const std::vector<double> truth = {0.95, 0.9, 0.3, 0.85, 0.1};
  // True top 2 = {0, 1}, predicted {0, 2}; top 3: {0, 1, 3} vs {0, 2, 3}.
  EXPECT_DOUBLE_EQ(top_k_recall(pred, truth, 1), 1);
  EXPECT_DOUBLE_EQ(top_k_recall(pred, truth, 2), 0.5);
  EXPECT_DOUBLE_EQ(top_k_recall(pred, truth, 3), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(top_k_recall(pred, truth, 5), 1);
  // Ties at the boundary go to the smaller index: predicted top 2 = {0, 1}, true {1, 2}.
  const std::vector<double> tied = {0.5, 0.5, 0.5, 0.1}, t2 = {0.1, 0.9, 0.8, 0.0};
  EXPECT_DOUBLE_EQ(top_k_recall(tied, t2, 2), 0.5);
}

TEST(RankMetrics, RejectsBadInput) {
  const std::vector<double> a = {1, 2, 3}, b = {1, 2}, one = {1};
  expect_error([&] { kendall_tau(a, b); }, {"kendall_tau", "length"});
  expect_error([&] { spearman_rho(a, b); }, {"spearman_rho", "length"});
  expect_error([&] { top_k_recall(a, b, 1); }, {"top_k_recall", "length"});
  expect_error([&] { kendall_tau(one, one); }, {"at least 2"});
  expect_error([&] { spearman_rho(one, one); }, {"at least 2"});
  expect_error([&] { top_k_recall(a, a, 0); }, {"k must be"});
  expect_error([&] { top_k_recall(a, a, 4); }, {"k must be"});
  const std::vector<double> nan = {1, std::nan(""), 3};
  expect_error([&] { kendall_tau(a, nan); }, {"not finite"});
}

}  // namespace
}  // namespace fusenas::nas::estimate
