// The Strategy base: per-ask generators, validation of proposals, the history, pending candidates
// and the incumbent.
#include "fusenas/nas/strategy/strategy.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas::strategy {
namespace {

// Each ask reads its own window of the Philox counter under the search's seed: windows of 2^40
// blocks never overlap, and ask i draws the same numbers however many the earlier asks drew.
constexpr int kAskWindowBits = 40;

std::string key_of(const space::Point& p) {
  return p.dump();
}

}  // namespace

space::Point Strategy::ask() {
  Generator gen(seed_);
  gen.set_state({seed_, static_cast<uint64_t>(asked_) << kAskWindowBits, 0});
  space::Point p = propose(gen);
  try {
    space_.validate(p);
  } catch (const Error& e) {
    FUSENAS_FAIL("strategy '{}' proposed an invalid point of space '{}' at ask {}: {}", name(),
                 space_.name(), asked_, e.what());
  }
  ++asked_;
  add_pending(p);
  return p;
}

void Strategy::tell(const space::Point& p, std::optional<double> score) {
  FUSENAS_CHECK(!score || std::isfinite(*score),
                "tell: score {} is not finite; tell std::nullopt for a failed trial", *score);
  space_.validate(p);
  const std::string key = key_of(p);
  if (auto it = pending_keys_.find(key); it != pending_keys_.end()) {
    if (--it->second == 0) pending_keys_.erase(it);
    pending_.erase(std::find(pending_.begin(), pending_.end(), p));
  }
  told_keys_.insert(key);
  history_.push_back({p, score});
  observed(history_.back());
}

void Strategy::set_asked(int64_t n) {
  FUSENAS_CHECK(n >= 0, "set_asked: the number of candidates asked must be >= 0, got {}", n);
  asked_ = n;
}

void Strategy::mark_pending(const space::Point& p) {
  space_.validate(p);
  add_pending(p);
}

void Strategy::add_pending(const space::Point& p) {
  pending_.push_back(p);
  ++pending_keys_[key_of(p)];
}

bool Strategy::known(const space::Point& p) const {
  const std::string key = key_of(p);
  return told_keys_.count(key) > 0 || pending_keys_.count(key) > 0;
}

std::optional<Observation> Strategy::incumbent() const {
  const Observation* best = nullptr;
  for (const auto& o : history_) {
    if (o.score && (best == nullptr || *o.score > *best->score)) best = &o;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

}  // namespace fusenas::nas::strategy
