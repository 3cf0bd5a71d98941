// Hyperband / successive-halving bracket tables and the ask/tell scheduler that runs them.
#include "fusenas/nas/estimate/hyperband.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas::estimate {
namespace {

// Relative slack when comparing eta^s with R / r_min: R and r_min come from config files as
// decimals, so R / r_min = 81 may arrive as 80.99999999999999 (8.1 / 0.1).
constexpr double kRatioTolerance = 1e-9;

void check_eta(int eta) {
  FUSENAS_CHECK(eta >= 2, "hyperband: eta must be >= 2, got {}", eta);
}

void check_resource(double r, const char* what) {
  FUSENAS_CHECK(std::isfinite(r) && r > 0, "hyperband: {} must be finite and > 0, got {}", what, r);
}

// eta^e as an integer; largest_power_within keeps eta^e <= 1e15.
int64_t ipow(int eta, int e) {
  int64_t p = 1;
  for (int i = 0; i < e; ++i) p *= eta;
  return p;
}

// The largest s with eta^s <= ratio (ratio >= 1), by multiplication rather than log(): in double
// log(243) / log(3) is 4.999999999999999, so floor() would give s_max = 4 for R = 243.
int largest_power_within(double ratio, int eta) {
  int s = 0;
  double p = eta;
  while (p <= ratio * (1 + kRatioTolerance)) {
    ++s;
    p *= eta;
    // Keeps eta^s (and (s_max + 1) eta^s) exact in int64 arithmetic.
    FUSENAS_CHECK(p <= 1e15, "hyperband: {} is too large a ratio for eta = {}", ratio, eta);
  }
  return s;
}

}  // namespace

double Bracket::budget() const {
  double total = 0;
  for (const Rung& g : rungs) total += static_cast<double>(g.n) * g.r;
  return total;
}

int hyperband_s_max(double max_resource, int eta, double min_resource) {
  check_eta(eta);
  check_resource(max_resource, "the maximum resource R");
  check_resource(min_resource, "the minimum resource r_min");
  FUSENAS_CHECK(max_resource >= min_resource * (1 - kRatioTolerance),
                "hyperband: the maximum resource R = {} is below the minimum r_min = {}",
                max_resource, min_resource);
  return largest_power_within(max_resource / min_resource, eta);
}

std::vector<Bracket> hyperband_brackets(double max_resource, int eta, double min_resource) {
  const int s_max = hyperband_s_max(max_resource, eta, min_resource);
  std::vector<Bracket> out;
  for (int s = s_max; s >= 0; --s) {
    Bracket b;
    b.s = s;
    // ceil((s_max + 1) * eta^s / (s + 1)) in integers.
    const int64_t n = ((s_max + 1) * ipow(eta, s) + s) / (s + 1);
    for (int i = 0; i <= s; ++i) {
      // floor(n / eta^i) in integers; r_i = R / eta^(s - i), exact when R is a multiple.
      b.rungs.push_back({n / ipow(eta, i), max_resource / static_cast<double>(ipow(eta, s - i))});
    }
    out.push_back(std::move(b));
  }
  return out;
}

Bracket successive_halving_bracket(int64_t n, double min_resource, int eta,
                                   std::optional<double> max_resource) {
  check_eta(eta);
  check_resource(min_resource, "the minimum resource r_min");
  FUSENAS_CHECK(n >= 1, "successive halving: need at least one configuration, got n = {}", n);
  int s = largest_power_within(static_cast<double>(n), eta);  // n_s = floor(n / eta^s) >= 1
  if (max_resource) s = std::min(s, hyperband_s_max(*max_resource, eta, min_resource));
  Bracket b;
  b.s = s;
  for (int i = 0; i <= s; ++i) {
    b.rungs.push_back({n / ipow(eta, i), min_resource * static_cast<double>(ipow(eta, i))});
  }
  return b;
}

HyperbandScheduler HyperbandScheduler::hyperband(double max_resource, int eta, double min_resource,
                                                 HyperbandOptions options) {
  return HyperbandScheduler(hyperband_brackets(max_resource, eta, min_resource), eta, options);
}

HyperbandScheduler HyperbandScheduler::successive_halving(int64_t n, double min_resource, int eta,
                                                          std::optional<double> max_resource,
                                                          HyperbandOptions options) {
  return HyperbandScheduler({successive_halving_bracket(n, min_resource, eta, max_resource)}, eta,
                            options);
}

HyperbandScheduler::HyperbandScheduler(std::vector<Bracket> brackets, int eta,
                                       HyperbandOptions options)
    : brackets_(std::move(brackets)), eta_(eta), options_(options) {
  check_eta(eta);
  FUSENAS_CHECK(!brackets_.empty(), "hyperband scheduler: no brackets");
  for (size_t b = 0; b < brackets_.size(); ++b) {
    const auto& rungs = brackets_[b].rungs;
    FUSENAS_CHECK(!rungs.empty(), "hyperband scheduler: bracket {} has no rungs", b);
    for (size_t i = 0; i < rungs.size(); ++i) {
      FUSENAS_CHECK(rungs[i].n >= 1, "hyperband scheduler: bracket {} rung {} has n = {}", b, i,
                    rungs[i].n);
      check_resource(rungs[i].r, "a rung's resource");
      if (i > 0) {
        FUSENAS_CHECK(rungs[i].n <= rungs[i - 1].n && rungs[i].r > rungs[i - 1].r,
                      "hyperband scheduler: bracket {} rung {} must have no more configurations "
                      "and more resource than rung {}",
                      b, i, i - 1);
      }
    }
  }
  state_.resize(brackets_.size());
  for (size_t b = 0; b < brackets_.size(); ++b) state_[b].rungs.resize(brackets_[b].rungs.size());
}

std::optional<Job> HyperbandScheduler::ask_from(int b) {
  BracketState& st = state_[b];
  if (st.done) return std::nullopt;
  RungState& rung = st.rungs[st.current];
  const bool first = st.current == 0;
  // Rung 0 is filled with new configurations as they are handed out; later rungs hold the
  // promoted ones from the start.
  const int64_t size = first ? brackets_[b].rungs[0].n : static_cast<int64_t>(rung.configs.size());
  if (rung.handed_out >= size) return std::nullopt;
  Job job;
  job.bracket = b;
  job.rung = st.current;
  job.resource = brackets_[b].rungs[st.current].r;
  if (first) {
    job.config = next_config_++;
    job.new_config = true;
    rung.configs.push_back(job.config);
    rung.scores.emplace_back();
    rung.told.push_back(false);
  } else {
    job.config = rung.configs[rung.handed_out];
  }
  ++rung.handed_out;
  ++running_;
  return job;
}

std::optional<Job> HyperbandScheduler::ask() {
  for (size_t b = 0; b < state_.size(); ++b) {
    if (state_[b].done) continue;
    if (auto job = ask_from(static_cast<int>(b))) return job;
    if (!options_.overlap_brackets) return std::nullopt;  // wait for this bracket's results
  }
  return std::nullopt;
}

void HyperbandScheduler::tell(const Job& job, std::optional<double> score) {
  FUSENAS_CHECK(job.bracket >= 0 && job.bracket < static_cast<int>(state_.size()),
                "hyperband scheduler: told a job of unknown bracket {}", job.bracket);
  BracketState& st = state_[job.bracket];
  FUSENAS_CHECK(!st.done && job.rung == st.current,
                "hyperband scheduler: told a job (config {}, bracket {}, rung {}) that is not "
                "running",
                job.config, job.bracket, job.rung);
  RungState& rung = st.rungs[st.current];
  const auto it =
      std::find(rung.configs.begin(), rung.configs.begin() + rung.handed_out, job.config);
  const auto idx = it - rung.configs.begin();
  FUSENAS_CHECK(it != rung.configs.begin() + rung.handed_out && !rung.told[idx],
                "hyperband scheduler: told config {} at bracket {} rung {}, which was not "
                "handed out or was told already",
                job.config, job.bracket, job.rung);
  // A diverged trial's NaN or inf is a failure, not a score that could win a promotion.
  if (score && !std::isfinite(*score)) score.reset();
  rung.scores[idx] = score;
  rung.told[idx] = true;
  ++rung.told_count;
  --running_;
  Job told = job;
  told.resource = brackets_[job.bracket].rungs[job.rung].r;
  told.new_config = job.rung == 0;
  results_.push_back({told, score});
  const int64_t size = st.current == 0 ? brackets_[job.bracket].rungs[0].n
                                       : static_cast<int64_t>(rung.configs.size());
  if (rung.told_count == size) promote(job.bracket);
}

void HyperbandScheduler::promote(int b) {
  BracketState& st = state_[b];
  const RungState& rung = st.rungs[st.current];
  if (st.current + 1 >= static_cast<int>(st.rungs.size())) {
    st.done = true;
    return;
  }
  // Successful configurations, best first; equal scores keep the smaller config id first.
  std::vector<size_t> order;
  for (size_t i = 0; i < rung.configs.size(); ++i) {
    if (rung.scores[i]) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) {
    if (*rung.scores[a] != *rung.scores[c]) return *rung.scores[a] > *rung.scores[c];
    return rung.configs[a] < rung.configs[c];
  });
  // The next rung's nominal size is floor(n_i / eta) (= floor(n * eta^-(i+1)) for Algorithm 1's
  // brackets); failures can leave fewer to promote.
  const auto keep = std::min<size_t>(order.size(), brackets_[b].rungs[st.current + 1].n);
  RungState& next = st.rungs[st.current + 1];
  for (size_t k = 0; k < keep; ++k) {
    next.configs.push_back(rung.configs[order[k]]);
    next.scores.emplace_back();
    next.told.push_back(false);
  }
  ++st.current;
  if (keep == 0) st.done = true;  // nothing survived: the bracket ends early
}

bool HyperbandScheduler::finished() const {
  return std::all_of(state_.begin(), state_.end(), [](const BracketState& s) { return s.done; });
}

std::vector<int64_t> HyperbandScheduler::rung_configs(int bracket, int rung) const {
  FUSENAS_CHECK(bracket >= 0 && bracket < static_cast<int>(state_.size()) && rung >= 0 &&
                    rung < static_cast<int>(state_[bracket].rungs.size()),
                "hyperband scheduler: no rung {} in bracket {}", rung, bracket);
  return state_[bracket].rungs[rung].configs;
}

std::optional<Result> HyperbandScheduler::best() const {
  std::optional<Result> out;
  for (const Result& r : results_) {
    if (!r.score) continue;
    if (!out || r.job.resource > out->job.resource ||
        (r.job.resource == out->job.resource && *r.score > *out->score)) {
      out = r;
    }
  }
  return out;
}

}  // namespace fusenas::nas::estimate
