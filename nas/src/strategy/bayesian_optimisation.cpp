// Bayesian optimisation's proposals: random start, surrogate fit on standardised scores, the
// candidate pool, and the acquisition's choice.
#include "fusenas/nas/strategy/bayesian_optimisation.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "fusenas/engine/error.h"
#include "fusenas/nas/strategy/gaussian_process.h"

namespace fusenas::nas::strategy {
namespace {

constexpr int kRedraws = 16;  // as RandomSearch: redraw a sample that was seen already

// Scores to zero mean and unit variance, so the GP's unit prior variance fits any metric's scale;
// equal scores keep a unit scale instead of dividing by zero.
void standardise(std::vector<double>& y) {
  double mean = 0;
  for (double v : y) mean += v;
  mean /= static_cast<double>(y.size());
  double var = 0;
  for (double v : y) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / static_cast<double>(y.size()));
  for (double& v : y) v = (v - mean) / (sd > 0 ? sd : 1);
}

size_t argmax(const std::vector<double>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

void BoOptions::validate() const {
  FUSENAS_CHECK(initial_random >= 0, "bo: initial_random must be >= 0, got {}", initial_random);
  FUSENAS_CHECK(acquisition == "ei" || acquisition == "thompson",
                "bo: acquisition must be 'ei' or 'thompson', got '{}'", acquisition);
  FUSENAS_CHECK(std::isfinite(ei_margin) && ei_margin >= 0, "bo: ei_margin must be >= 0, got {}",
                ei_margin);
  FUSENAS_CHECK(parents >= 1, "bo: parents must be >= 1, got {}", parents);
  FUSENAS_CHECK(mutants >= 0 && random_candidates >= 0 && mutants + random_candidates >= 1,
                "bo: mutants ({}) and random_candidates ({}) must be >= 0 and not both 0", mutants,
                random_candidates);
  FUSENAS_CHECK(max_mutation_steps >= 1, "bo: max_mutation_steps must be >= 1, got {}",
                max_mutation_steps);
}

BoOptions default_bo_options(int64_t budget_trials) {
  FUSENAS_CHECK(budget_trials > 0, "bo: the budget must be > 0 trials, got {}", budget_trials);
  BoOptions o;
  o.initial_random = std::clamp<int64_t>(budget_trials / 10, 5, 20);
  return o;
}

BayesianOptimisation::BayesianOptimisation(const space::Space& space, uint64_t seed,
                                           const BoOptions& options)
    : Strategy(space, seed), options_(options) {
  options_.validate();
}

space::Point BayesianOptimisation::sample_unseen(Generator& gen) const {
  space::Point p = space().sample(gen);
  for (int i = 0; i < kRedraws && known(p); ++i) p = space().sample(gen);
  return p;
}

std::vector<space::Point> BayesianOptimisation::candidate_pool(
    const std::vector<const Scored*>& ranked, Generator& gen) const {
  std::vector<space::Point> pool;
  std::unordered_set<std::string> in_pool;
  auto add = [&](space::Point p) {
    if (!known(p) && in_pool.insert(p.dump()).second) pool.push_back(std::move(p));
  };
  const auto parents = std::min<int64_t>(options_.parents, static_cast<int64_t>(ranked.size()));
  for (int64_t j = 0; j < options_.mutants; ++j) {
    space::Point p = history()[ranked[j % parents]->index].point;
    const int64_t steps = gen.next_int(1, options_.max_mutation_steps + 1);
    for (int64_t s = 0; s < steps; ++s) p = space().mutate(p, gen);
    add(std::move(p));
  }
  for (int64_t j = 0; j < options_.random_candidates; ++j) add(space().sample(gen));
  return pool;
}

void BayesianOptimisation::observed(const Observation& o) {
  if (!o.score) return;
  const auto e = space().encode(o.point);
  scored_.push_back({history().size() - 1, {e.begin(), e.end()}});
}

space::Point BayesianOptimisation::propose(Generator& gen) {
  if (asked() < options_.initial_random || scored_.size() < 2) return sample_unseen(gen);
  auto score = [&](const Scored* s) { return *history()[s->index].score; };
  std::vector<const Scored*> ranked;
  for (const auto& s : scored_) ranked.push_back(&s);
  // Best first, the earliest on ties: the parents of the pool.
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const Scored* a, const Scored* b) { return score(a) > score(b); });

  GaussianProcess::Matrix x;
  std::vector<double> y;
  for (const auto* s : ranked) {
    x.push_back(s->encoding);
    y.push_back(score(s));
  }
  standardise(y);
  const double best = y.front();
  const auto gp = GaussianProcess::fit(std::move(x), y);

  std::vector<space::Point> pool = candidate_pool(ranked, gen);
  if (pool.empty()) return sample_unseen(gen);  // every neighbour and sample was seen
  GaussianProcess::Matrix px;
  for (const auto& p : pool) {
    const auto e = space().encode(p);
    px.emplace_back(e.begin(), e.end());
  }

  std::vector<double> value;
  if (options_.acquisition == "thompson") {
    value = gp.sample(px, gen);
  } else {
    for (const auto& e : px) {
      const auto pred = gp.predict(e);
      value.push_back(
          expected_improvement(pred.mean, std::sqrt(pred.variance), best + options_.ei_margin));
    }
  }
  return pool[argmax(value)];
}

}  // namespace fusenas::nas::strategy
