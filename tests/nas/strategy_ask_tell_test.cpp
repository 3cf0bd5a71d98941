// The ask/tell contract of every strategy: determinism, resume after a kill (also with trials in
// flight), failed trials, parallel asks, the factory and the budget-scaled defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/evolution.h"
#include "fusenas/nas/strategy/make_strategy.h"
#include "support/expect.h"

namespace fusenas::nas::strategy {
namespace {

using space::Point;

// A fixed linear function of the encoding; some points fail (a third, chosen by their JSON text)
// when `failures` is set, all of them when `all_fail` is.
struct Objective {
  const space::Space& s;
  bool failures = false;
  bool all_fail = false;

  std::optional<double> operator()(const Point& p) const {
    if (all_fail) return std::nullopt;
    if (failures && std::hash<std::string>{}(p.dump()) % 3 == 0) return std::nullopt;
    const auto e = s.encode(p);
    Generator gen(77);
    double v = 0;
    for (float x : e) v += gen.next_normal() * x;
    return v;
  }
};

StrategyOptions small_budget(int64_t budget) {
  StrategyOptions o;
  o.budget_trials = budget;  // evolution: P = 6, S = 2 at 30; BO: 5 random asks
  return o;
}

// One step of a search's script: an ask (the point it returned), or a tell.
struct Event {
  bool is_ask;
  Point point;
  std::optional<double> score;
};

// Asks `width` candidates, tells them in reverse order (evaluations finishing out of order), and
// repeats until `budget` candidates were asked.
std::vector<Event> run_script(Strategy& st, const Objective& f, int64_t budget, int width) {
  std::vector<Event> events;
  while (st.asked() < budget) {
    std::vector<Point> batch;
    for (int i = 0; i < width && st.asked() < budget; ++i) {
      batch.push_back(st.ask());
      events.push_back({true, batch.back(), std::nullopt});
    }
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      const auto score = f(*it);
      st.tell(*it, score);
      events.push_back({false, *it, score});
    }
  }
  return events;
}

class StrategyContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::shared_ptr<space::ArchSpace> space_ = space::make_arch_space("chain");
  std::unique_ptr<Strategy> make(uint64_t seed, int64_t budget = 30) const {
    return make_strategy(GetParam(), *space_, seed, small_budget(budget));
  }
};

TEST_P(StrategyContractTest, SameSeedAndTellsGiveTheSameAsks) {
  const Objective f{*space_};
  auto a = make(11), b = make(11), c = make(12);
  const auto ea = run_script(*a, f, 30, 1);
  const auto eb = run_script(*b, f, 30, 1);
  const auto ec = run_script(*c, f, 30, 1);
  ASSERT_EQ(ea.size(), eb.size());
  int differs_from_other_seed = 0;
  for (size_t i = 0; i < ea.size(); ++i) {
    EXPECT_EQ(ea[i].point, eb[i].point) << i;
    differs_from_other_seed += ea[i].point != ec[i].point;
  }
  EXPECT_GT(differs_from_other_seed, 0);
  EXPECT_EQ(a->name(), GetParam());
}

// A search killed after any event (mid-batch included), resumed from its trial database: replay
// the tells in their order, re-mark the trials still in flight, and continue. It must then ask
// exactly what the uninterrupted search asked.
TEST_P(StrategyContractTest, ResumeAfterAKillAsksWhatTheUninterruptedSearchAsked) {
  const Objective f{*space_, /*failures=*/true};
  for (int width : {1, 3}) {
    auto whole = make(5);
    const auto events = run_script(*whole, f, 30, width);
    for (size_t cut : {size_t{4}, events.size() / 2 + 1, events.size() - 5}) {
      auto resumed = make(5);
      std::vector<Point> in_flight;
      int64_t asked = 0;
      for (size_t i = 0; i < cut; ++i) {
        if (events[i].is_ask) {
          ++asked;
          in_flight.push_back(events[i].point);
        } else {
          resumed->tell(events[i].point, events[i].score);
          in_flight.erase(std::find(in_flight.begin(), in_flight.end(), events[i].point));
        }
      }
      for (const auto& p : in_flight) resumed->mark_pending(p);
      resumed->set_asked(asked);
      for (size_t i = cut; i < events.size(); ++i) {
        if (events[i].is_ask) {
          ASSERT_EQ(resumed->ask(), events[i].point)
              << "width " << width << ", cut " << cut << ", event " << i;
        } else {
          resumed->tell(events[i].point, events[i].score);
        }
      }
      EXPECT_EQ(resumed->incumbent()->point, whole->incumbent()->point);
    }
  }
}

TEST_P(StrategyContractTest, FailedTrialsDoNotStopTheSearch) {
  const Objective f{*space_, /*failures=*/true};
  auto st = make(3, 40);
  const auto events = run_script(*st, f, 40, 1);
  int failed = 0;
  for (const auto& o : st->history()) failed += !o.score;
  EXPECT_GT(failed, 5);
  ASSERT_TRUE(st->incumbent().has_value());
  EXPECT_TRUE(st->incumbent()->score.has_value());
  // Failed points are known: none is asked again.
  std::set<std::string> seen;
  for (const auto& e : events) {
    if (e.is_ask) {
      EXPECT_TRUE(seen.insert(e.point.dump()).second) << e.point.dump();
    }
  }
}

TEST_P(StrategyContractTest, EveryTrialFailing) {
  const Objective f{*space_, false, /*all_fail=*/true};
  auto st = make(3, 30);
  run_script(*st, f, 25, 2);
  EXPECT_EQ(st->history().size(), 25u);
  EXPECT_FALSE(st->incumbent().has_value());
}

// Several evaluations at once: candidates asked before any tell are distinct and pending until
// told, in any order.
TEST_P(StrategyContractTest, ParallelAsksAreDistinctAndPending) {
  const Objective f{*space_};
  auto st = make(8, 40);
  std::set<std::string> seen;
  std::vector<Point> running;
  while (st->asked() < 40) {
    while (running.size() < 4 && st->asked() < 40) {
      running.push_back(st->ask());
      EXPECT_TRUE(seen.insert(running.back().dump()).second) << "asked twice at " << st->asked();
    }
    EXPECT_EQ(st->pending(), running);
    // The second oldest finishes first.
    const size_t done = running.size() > 1 ? 1 : 0;
    st->tell(running[done], f(running[done]));
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(done));
  }
  for (const auto& p : running) st->tell(p, f(p));
  EXPECT_TRUE(st->pending().empty());
  EXPECT_EQ(st->history().size(), 40u);
}

// Every space the strategies may be given, the hyperparameter and joint ones included.
TEST_P(StrategyContractTest, RunsOnEverySpace) {
  std::vector<std::shared_ptr<const space::Space>> spaces;
  for (const auto& name : space::arch_space_names()) spaces.push_back(space::make_arch_space(name));
  auto hp = std::make_shared<space::HpSpace>();
  spaces.push_back(hp);
  spaces.push_back(std::make_shared<space::JointSpace>(space::make_arch_space("chain"), hp));
  for (const auto& s : spaces) {
    const Objective f{*s, /*failures=*/true};
    auto st = make_strategy(GetParam(), *s, 1, small_budget(20));
    EXPECT_NO_THROW(run_script(*st, f, 20, 2)) << s->name();
    EXPECT_EQ(st->history().size(), 20u) << s->name();
  }
}

TEST_P(StrategyContractTest, TellChecksItsArguments) {
  auto st = make(1);
  const auto p = st->ask();
  testing::expect_error([&] { st->tell(p, std::nan("")); }, {"not finite", "std::nullopt"});
  testing::expect_error([&] { st->tell(p, INFINITY); }, {"not finite"});
  testing::expect_error([&] { st->tell(Point{{"bogus", 1}}, 1.0); }, {});
  testing::expect_error([&] { st->set_asked(-1); }, {"set_asked", ">= 0"});
  EXPECT_EQ(st->pending().size(), 1u);
  EXPECT_TRUE(st->history().empty());
}

INSTANTIATE_TEST_SUITE_P(Strategies, StrategyContractTest,
                         ::testing::Values("random", "evolution", "bo"),
                         [](const auto& info) { return info.param; });

TEST(Strategy, IncumbentIsTheBestScoreTheEarliestOnTies) {
  const auto s = space::make_arch_space("chain");
  auto st = make_strategy("random", *s, 0);
  EXPECT_FALSE(st->incumbent().has_value());
  std::vector<Point> p;
  for (int i = 0; i < 4; ++i) p.push_back(st->ask());
  st->tell(p[0], std::nullopt);
  EXPECT_FALSE(st->incumbent().has_value());
  st->tell(p[1], 0.5);
  st->tell(p[2], 0.7);
  st->tell(p[3], 0.7);
  EXPECT_EQ(st->incumbent()->point, p[2]);
  EXPECT_EQ(*st->incumbent()->score, 0.7);
}

// Aging: the population is always the last P scored observations, in the order told, so a failed
// trial never becomes a parent and the oldest member leaves first.
TEST(RegularizedEvolution, PopulationIsTheLastScoredObservations) {
  const auto s = space::make_arch_space("chain");
  const Objective f{*s, /*failures=*/true};
  RegularizedEvolution st(*s, 4, {8, 3});
  for (int t = 0; t < 60; ++t) {
    const auto p = st.ask();
    st.tell(p, f(p));
    std::vector<const Observation*> scored;
    for (const auto& o : st.history()) {
      if (o.score) scored.push_back(&o);
    }
    const size_t n = std::min<size_t>(8, scored.size());
    ASSERT_EQ(st.population().size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(st.population()[i].point, scored[scored.size() - n + i]->point);
      EXPECT_TRUE(st.population()[i].score.has_value());
    }
  }
}

// After the population fills, every child is one mutation (or a few, when its neighbours were
// all seen) from a member; here: it shares most of the chain with some member.
TEST(RegularizedEvolution, ChildrenAreMutantsOfTheFittest) {
  const auto s = space::make_arch_space("chain");
  const Objective f{*s};
  RegularizedEvolution st(*s, 2, {6, 6});  // S = P: the parent is always the population's best
  for (int t = 0; t < 40; ++t) {
    const auto p = st.ask();
    if (t >= 6) {
      const auto best = std::max_element(
          st.population().begin(), st.population().end(),
          [](const Observation& a, const Observation& b) { return *a.score < *b.score; });
      const auto ep = s->encode(p), eb = s->encode(best->point);
      double diff = 0;
      for (size_t i = 0; i < ep.size(); ++i) diff += std::abs(ep[i] - eb[i]);
      // One decision changes at most a layer slot's few one-hot entries (or appends a layer).
      EXPECT_LE(diff, 12) << s->to_text(p) << " from " << s->to_text(best->point);
    }
    st.tell(p, f(p));
  }
}

TEST(StrategyFactory, NamesAndErrors) {
  EXPECT_EQ(strategy_names(),
            (std::vector<std::string>{"random", "evolution", "bo", "reference", "rl"}));
  const auto s = space::make_arch_space("chain");
  // The reference replay needs a run folder (tests/nas/rank_report_test.cpp builds one).
  for (const auto& name : strategy_names()) {
    if (name == "reference" || name == "rl") continue;
    EXPECT_EQ(make_strategy(name, *s, 0)->name(), name);
  }
  testing::expect_error([&] { make_strategy("reference", *s, 0); }, {"--reference"});
  // Zoph & Le's controller writes zoph-le points only (tests/nas/rl_strategy_test.cpp runs it).
  testing::expect_error([&] { make_strategy("rl", *s, 0); }, {"zoph-le", "chain"});
  testing::expect_error([&] { make_strategy("annealing", *s, 0); },
                        {"unknown strategy 'annealing'", "random, evolution, bo"});
  StrategyOptions bad;
  bad.evolution = EvolutionOptions{10, 11};
  testing::expect_error([&] { make_strategy("evolution", *s, 0, bad); }, {"tournament", "11"});
  bad.bo = default_bo_options(50);
  bad.bo->acquisition = "ucb";
  testing::expect_error([&] { make_strategy("bo", *s, 0, bad); }, {"acquisition", "'ucb'"});
  testing::expect_error(
      [&] {
        make_strategy("evolution", *s, 0, StrategyOptions{0, {}, {}, {}, {}});
      },
      {"budget must be > 0"});
}

TEST(StrategyDefaults, ScaleWithTheBudget) {
  struct Case {
    int64_t budget, population, tournament;
  };
  for (const auto& c : std::vector<Case>{{1, 4, 2},
                                         {20, 4, 2},
                                         {50, 10, 2},
                                         {80, 16, 4},
                                         {100, 20, 5},
                                         {500, 100, 25},
                                         {20000, 100, 25}}) {
    const auto o = default_evolution_options(c.budget);
    EXPECT_EQ(o.population, c.population) << c.budget;
    EXPECT_EQ(o.tournament, c.tournament) << c.budget;
    EXPECT_NO_THROW(o.validate());
  }
  EXPECT_EQ(default_bo_options(10).initial_random, 5);
  EXPECT_EQ(default_bo_options(100).initial_random, 10);
  EXPECT_EQ(default_bo_options(1000).initial_random, 20);
  EXPECT_EQ(default_bo_options(100).acquisition, "ei");
}

}  // namespace
}  // namespace fusenas::nas::strategy
