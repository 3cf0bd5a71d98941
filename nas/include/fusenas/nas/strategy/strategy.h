// The ask/tell interface every black-box strategy (random search, regularized evolution, Bayesian
// optimisation) implements, so that a search can be driven from outside, evaluate several
// candidates at once, and resume from its trial database by replaying what it was told.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::strategy {

// A finished trial as a strategy sees it. `score` is higher-is-better (a validation accuracy);
// a failed trial (diverged, out of memory) has no score and is never chosen as a parent.
struct Observation {
  space::Point point;
  std::optional<double> score;
};

class Strategy {
 public:
  // The space must outlive the strategy.
  Strategy(const space::Space& space, uint64_t seed) : space_(space), seed_(seed) {}
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;

  // The next candidate to evaluate (valid in the space). Its randomness comes from the seed and
  // the number of candidates asked so far only, so a search that replays the same tells in the
  // same order (and marks the same trials pending) asks for the same candidates. The candidate
  // is pending until it is told.
  space::Point ask();
  // Records a result; std::nullopt for a failed trial. A score must be finite (a diverged trial
  // is a failure). Clears one pending copy of `p`, if any.
  void tell(const space::Point& p, std::optional<double> score);
  // For a resumed search: `n` candidates were asked before (their results, if any, come through
  // tell()), so the next ask() continues the same sequence.
  void set_asked(int64_t n);
  int64_t asked() const { return asked_; }
  // For a resumed search: a candidate asked before the kill whose trial has not finished yet (it
  // runs again); strategies then avoid proposing it a second time, as the uninterrupted run would.
  void mark_pending(const space::Point& p);

  const std::vector<Observation>& history() const { return history_; }
  // Asked but not yet told, in the order asked.
  const std::vector<space::Point>& pending() const { return pending_; }
  // The best scored observation so far (the earliest on ties); none before the first success.
  std::optional<Observation> incumbent() const;
  const space::Space& space() const { return space_; }

 protected:
  // A new candidate from `gen`, a generator private to this ask.
  virtual space::Point propose(Generator& gen) = 0;
  // Called after an observation is appended to history(); for strategies that keep more state.
  virtual void observed(const Observation&) {}
  // Whether `p` was evaluated already (failed or not) or is pending: proposing it again would
  // waste a trial.
  bool known(const space::Point& p) const;

 private:
  void add_pending(const space::Point& p);

  const space::Space& space_;
  uint64_t seed_;
  int64_t asked_ = 0;
  std::vector<Observation> history_;
  std::vector<space::Point> pending_;
  // Points by their JSON text (nlohmann dumps objects with sorted keys, so equal points give
  // equal text): every point told, and a count per pending point.
  std::unordered_set<std::string> told_keys_;
  std::unordered_map<std::string, int64_t> pending_keys_;
};

}  // namespace fusenas::nas::strategy
