// The trial database of a black-box search: one SQLite file per search in the run folder, holding
// every trial's candidate, fidelity, state, learning curve and result, so a killed search resumes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fusenas::nas {

// pending -> running -> done | failed | pruned; pending -> pruned; running -> pending only through
// requeue_running() on resume. done, failed and pruned are final.
enum class TrialStatus { kPending, kRunning, kDone, kFailed, kPruned };
const char* to_string(TrialStatus s);

// What makes a search this search: a resume checks it against the database before going on.
struct SearchIdentity {
  std::string strategy;  // "random", "evolution", "bo"
  std::string space;     // the space's name()
  uint64_t seed = 0;
  nlohmann::json config = nlohmann::json::object();  // whatever must not change on resume
  bool operator==(const SearchIdentity&) const = default;
};

struct NewTrial {
  nlohmann::json candidate;     // the space's JSON form of the point
  std::vector<float> encoding;  // the space's encode() of it
  nlohmann::json hyperparameters = nullptr;
  nlohmann::json fidelity = nlohmann::json::object();  // e.g. {"epochs": 3, "train_subset": 5000}
  std::optional<int64_t> params;  // when known before training (count_parameters)
};

struct TrialResult {
  nlohmann::json metrics = nlohmann::json::object();  // stored with "score" added
  double score = 0;                                   // higher is better; must be finite
  std::optional<int64_t> params;
  std::optional<double> wall_seconds;  // default: now minus the start
};

struct Trial {
  int64_t id = 0;  // 1, 2, ... in creation order
  nlohmann::json candidate;
  std::vector<float> encoding;
  nlohmann::json hyperparameters;
  nlohmann::json fidelity;
  TrialStatus status = TrialStatus::kPending;
  int64_t attempts = 0;               // times it was started (a requeued trial runs again)
  std::optional<int64_t> pid;         // of the process running (or that last ran) it
  std::optional<double> started;      // unix seconds of the current (or last) attempt's start
  std::vector<nlohmann::json> curve;  // one metrics object per finished epoch, epoch 1 first
  nlohmann::json metrics;             // null until done
  std::optional<double> score;
  std::optional<int64_t> params;
  std::optional<double> wall_seconds;
  std::string error;  // why it failed or was pruned; empty otherwise
  double created = 0, updated = 0;
  std::optional<double> finished;  // unix seconds it became done, failed or pruned
};

// Which "running" trials requeue_running() turns back into pending ones.
enum class Requeue {
  // Those whose process is gone (kill(pid, 0) says so). A pid can be reused by an unrelated
  // process, which keeps its trial running; prefer kAll where the run folder is locked.
  kDeadProcesses,
  // Every one: right when the caller holds the run folder's RunLock, since then no other process
  // of this search can be running a trial.
  kAll,
};

// Every state change is one transaction committed with synchronous=FULL, so a kill (or power loss)
// at any moment leaves each trial in one of its states. Errors are fusenas::Error naming the file.
// Several processes may open one database; writes wait for each other (busy timeout). One object
// is for one thread at a time.
class TrialDb {
 public:
  static constexpr const char* kFile = "trials.sqlite";
  static constexpr int kSchemaVersion = 1;

  // A new database at `path`; refuses an existing FuseNAS or foreign database (an empty file left
  // by a creation that was killed before its commit is taken over).
  static TrialDb create(const std::string& path, const SearchIdentity& identity);
  // An existing database; refuses anything that is not a FuseNAS trial database of a known schema.
  static TrialDb open(const std::string& path);
  // open() when `path` exists, then checks the identity (naming the first field that differs);
  // create() otherwise. `normalize_config` maps the stored config to the form `identity` has
  // (a config written by an older version lacks keys added since, which take their defaults).
  static TrialDb open_or_create(
      const std::string& path, const SearchIdentity& identity,
      const std::function<nlohmann::json(const nlohmann::json&)>& normalize_config = {});

  TrialDb(TrialDb&&) noexcept;
  TrialDb& operator=(TrialDb&&) noexcept;
  ~TrialDb();

  const std::string& path() const { return path_; }
  const SearchIdentity& identity() const { return identity_; }

  // Each returns once its transaction is committed and synced; a call that the trial's state does
  // not allow (or an id that does not exist) throws and changes nothing.
  int64_t add(const NewTrial& t);                           // pending; returns the id
  void start(int64_t id, std::optional<int64_t> pid = {});  // pending -> running (default: own pid)
  int64_t append_epoch(int64_t id, const nlohmann::json& m);  // running; returns the epoch (from 1)
  void finish(int64_t id, const TrialResult& r);              // running -> done
  void fail(int64_t id, const std::string& reason, std::optional<double> wall_seconds = {});
  // pending or running -> pruned. `metrics` (an object, or null) holds what the pruner knew, e.g.
  // the learning-curve prediction that stopped the trial; it is stored as the trial's metrics.
  void prune(int64_t id, const std::string& reason,
             const nlohmann::json& metrics = nlohmann::json(),
             std::optional<double> wall_seconds = {});
  // On resume: running trials (see Requeue) go back to pending, their curve cleared, so they run
  // again from scratch. Returns how many.
  int64_t requeue_running(Requeue which);

  std::vector<Trial> trials() const;  // in id order
  Trial trial(int64_t id) const;
  int64_t count(std::optional<TrialStatus> status = {}) const;

 private:
  struct Impl;
  TrialDb(std::unique_ptr<Impl> impl, std::string path, SearchIdentity identity);
  std::unique_ptr<Impl> impl_;
  std::string path_;
  SearchIdentity identity_;
};

}  // namespace fusenas::nas
