// Successive halving and Hyperband (Li et al. 2017, JMLR): the bracket tables of Algorithm 1 and
// a stateful ask/tell scheduler that says which configuration to run next at which resource.
//
// A "resource" is whatever budget the caller spends per evaluation: epochs by default (that is
// how the search will use it), but the scheduler only ever compares and multiplies resources, so
// a caller may map it to a data-subset size, a number of batches or minutes. Resources are
// doubles because r_i = R * eta^(i - s) need not be whole (R = 100, eta = 3 gives r_0 = 100 / 81);
// the caller rounds them to what it can run (e.g. ceil to whole epochs).
//
// The scheduler knows configurations only by id (0, 1, 2, ... in the order it first asks for
// them); the caller samples a new configuration when a job has `new_config` set and keeps the
// mapping id -> configuration. It is independent of the trial database: a resumed search rebuilds
// it by replaying the same tells in the same order, since every decision is a pure function of
// the results told so far (ties broken by config id).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace fusenas::nas::estimate {

// One round of successive halving: `n` configurations each run with resource `r`.
struct Rung {
  int64_t n = 0;
  double r = 0;
};

// One successive-halving run: rungs i = 0..s with n_i = floor(n * eta^-i), r_i = r * eta^i.
struct Bracket {
  int s = 0;
  std::vector<Rung> rungs;
  // Sum of n_i * r_i: the resource the bracket spends if no trial fails (a promoted trial is
  // charged its full r_i, i.e. it is retrained rather than continued from its checkpoint).
  double budget() const;
};

// s_max = floor(log_eta(R / r_min)), computed without floating-point log (repeated
// multiplication with a relative tolerance of 1e-9), so R = 81, r_min = 1, eta = 3 gives 4 and
// not 3. Throws fusenas::Error unless eta >= 2, r_min > 0 and R >= r_min (all finite).
int hyperband_s_max(double max_resource, int eta, double min_resource = 1.0);

// Algorithm 1's brackets, s = s_max first (most configurations, least resource each) down to
// s = 0 (n = s_max + 1 configurations, all at R):
//   n = ceil((s_max + 1) / (s + 1) * eta^s), r = R * eta^-s, n_i = floor(n * eta^-i),
//   r_i = r * eta^i.
// n and n_i use integer arithmetic; r_i is computed as R / eta^(s - i), so it is exact whenever
// R / r_min is a power of eta.
std::vector<Bracket> hyperband_brackets(double max_resource, int eta, double min_resource = 1.0);

// A single successive-halving bracket over `n` configurations starting at `min_resource`:
// r_i = min_resource * eta^i and n_i = floor(n / eta^i) for i = 0..s, where s is the largest
// value with n_s >= 1 and, when `max_resource` is given, r_s <= max_resource (s as
// hyperband_s_max would compute it). Throws fusenas::Error unless n >= 1.
Bracket successive_halving_bracket(int64_t n, double min_resource, int eta,
                                   std::optional<double> max_resource = std::nullopt);

// What the scheduler asks the caller to run.
struct Job {
  int64_t config = 0;       // configuration id
  int bracket = 0;          // index into brackets() (0 = the first bracket run)
  int rung = 0;             // i within the bracket
  double resource = 0;      // r_i
  bool new_config = false;  // the caller must sample configuration `config` now (rung 0)
};

// One told result.
struct Result {
  Job job;
  std::optional<double> score;  // none for a failed trial
};

struct HyperbandOptions {
  // Brackets run one after another, as in Algorithm 1. With overlap, ask() hands out jobs of
  // the next bracket while the current one waits for its last results (brackets are
  // independent, so the decisions are the same; only the order of jobs changes).
  bool overlap_brackets = false;
};

// Runs the brackets of Hyperband (or one successive-halving bracket) as ask/tell:
//   while (!s.finished()) {
//     if (auto job = s.ask()) start(*job); else wait for a running job, then s.tell(job, score);
//   }
// ask() hands out each rung's jobs one at a time (so several may run at once); once every job of
// a rung is told, the rung's top floor(n_i / eta) configurations by score (higher is better; ties
// by smaller config id) are promoted to the next rung at resource r_{i+1}.
//
// Failed trials (tell with std::nullopt, or a non-finite score: a diverged trial) rank below every
// scored one and are never promoted: rerunning a configuration that diverged or ran out of memory
// at a larger budget is wasted work. A rung with fewer successful trials than floor(n_i / eta)
// therefore promotes only those, and the bracket ends early if none succeeded. Everything else is
// exactly Algorithm 1.
class HyperbandScheduler {
 public:
  // Hyperband over all brackets of hyperband_brackets(R, eta, r_min).
  static HyperbandScheduler hyperband(double max_resource, int eta, double min_resource = 1.0,
                                      HyperbandOptions options = {});
  // Successive halving alone: the single bracket successive_halving_bracket(n, r_min, eta, R).
  static HyperbandScheduler successive_halving(int64_t n, double min_resource, int eta,
                                               std::optional<double> max_resource = std::nullopt,
                                               HyperbandOptions options = {});
  // Any bracket list (each must have n_{i+1} <= n_i and increasing r_i).
  HyperbandScheduler(std::vector<Bracket> brackets, int eta, HyperbandOptions options = {});

  // The next job to start, or none when every remaining job waits for results still running
  // (or when finished()).
  std::optional<Job> ask();
  // The result of a job handed out by ask() and not told yet; throws fusenas::Error otherwise.
  void tell(const Job& job, std::optional<double> score);

  // Every bracket's every job has been handed out and told.
  bool finished() const;
  // Jobs handed out and not told yet.
  int64_t running() const { return running_; }
  // Configuration ids handed out so far (the next new config gets this id).
  int64_t configs() const { return next_config_; }
  int eta() const { return eta_; }

  const std::vector<Bracket>& brackets() const { return brackets_; }
  // Every result told, in the order told.
  const std::vector<Result>& results() const { return results_; }
  // The configurations of rung `rung` of bracket `bracket`: for rung 0 those handed out so far,
  // in id order; for a later rung the promoted ones, best first, once the rung below has
  // completed (none before).
  std::vector<int64_t> rung_configs(int bracket, int rung) const;
  // The best successful result at the largest resource any successful result has (scores at
  // different resources are not comparable; ties by the earliest told). None before the first
  // success.
  std::optional<Result> best() const;

 private:
  struct RungState {
    std::vector<int64_t> configs;  // the rung's configurations, in the order handed out
    std::vector<std::optional<double>> scores;
    std::vector<bool> told;
    int64_t handed_out = 0;
    int64_t told_count = 0;
  };
  struct BracketState {
    std::vector<RungState> rungs;
    int current = 0;  // the rung jobs are handed out from
    bool done = false;
  };

  std::optional<Job> ask_from(int b);
  void promote(int b);

  std::vector<Bracket> brackets_;
  int eta_ = 3;
  HyperbandOptions options_;
  std::vector<BracketState> state_;
  std::vector<Result> results_;
  int64_t next_config_ = 0;
  int64_t running_ = 0;
};

}  // namespace fusenas::nas::estimate
