// Regularized evolution's proposals (random fill, then tournament + mutation), its aging
// population, and its budget-scaled defaults.
#include "fusenas/nas/strategy/evolution.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "fusenas/engine/error.h"

namespace fusenas::nas::strategy {
namespace {

// Attempts at a child nobody evaluated or is evaluating: first other mutations of the parent,
// then a walk of further mutations away from it (a parent whose neighbours are all known).
constexpr int kRetries = 16;

}  // namespace

void EvolutionOptions::validate() const {
  FUSENAS_CHECK(population >= 2, "evolution: population must be >= 2, got {}", population);
  FUSENAS_CHECK(tournament >= 1 && tournament <= population,
                "evolution: tournament must be in [1, population = {}], got {}", population,
                tournament);
}

EvolutionOptions default_evolution_options(int64_t budget_trials) {
  FUSENAS_CHECK(budget_trials > 0, "evolution: the budget must be > 0 trials, got {}",
                budget_trials);
  EvolutionOptions o;
  o.population = std::clamp<int64_t>(budget_trials / 5, 4, 100);
  o.tournament = std::max<int64_t>(2, o.population / 4);
  return o;
}

RegularizedEvolution::RegularizedEvolution(const space::Space& space, uint64_t seed,
                                           const EvolutionOptions& options)
    : Strategy(space, seed), options_(options) {
  options_.validate();
}

space::Point RegularizedEvolution::propose(Generator& gen) {
  if (static_cast<int64_t>(population_.size()) < options_.population) {
    space::Point p = space().sample(gen);
    for (int i = 0; i < kRetries && known(p); ++i) p = space().sample(gen);
    return p;
  }
  // S distinct members (a partial Fisher-Yates shuffle of the indices); the best of them wins,
  // the first drawn on ties.
  std::vector<size_t> index(population_.size());
  std::iota(index.begin(), index.end(), size_t{0});
  const Observation* parent = nullptr;
  for (int64_t i = 0; i < options_.tournament; ++i) {
    const auto j = gen.next_int(i, static_cast<int64_t>(index.size()));
    std::swap(index[i], index[j]);
    const Observation& member = population_[index[i]];
    if (parent == nullptr || *member.score > *parent->score) parent = &member;
  }
  space::Point child = space().mutate(parent->point, gen);
  for (int i = 0; i < kRetries && known(child); ++i) {
    child = space().mutate(i < kRetries / 2 ? parent->point : child, gen);
  }
  return child;
}

void RegularizedEvolution::observed(const Observation& o) {
  if (!o.score) return;
  population_.push_back(o);
  if (static_cast<int64_t>(population_.size()) > options_.population) population_.pop_front();
}

}  // namespace fusenas::nas::strategy
