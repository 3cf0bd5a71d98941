// Black-box architecture (and hyperparameter) search over trained children: random search,
// regularized evolution or Bayesian optimisation on a space, one trial per candidate, trials in a
// SQLite database in the run folder, resumable.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "fusenas/nas/search/search_config.h"

namespace fusenas::nas {

struct BlackBoxResult {
  std::string run_dir;
  bool finished = false;  // the budget is spent (false: stopped by a signal, resumable)
  int64_t trials = 0;     // trials that ended (done, failed or pruned)
  int64_t failed = 0;
  int64_t pruned = 0;
  std::optional<double> best_score;  // search-val accuracy (%) of the incumbent
  int64_t best_trial = 0;
  nlohmann::json best_arch;  // the incumbent's architecture point
  nlohmann::json best_hp;    // and the hyperparameters it trained with
  std::string best_text;
  std::string train_command;  // nas_train command that trains the incumbent fully
};

// Starts a search in a new run folder (options.out_dir or runs/search-<time>).
BlackBoxResult blackbox_search(const BlackBoxConfig& config, const BlackBoxOptions& options);
// Continues the search in `run_dir`: finished trials are kept, a trial that was running is run
// again, the strategy replays the results and asks what it would have asked.
BlackBoxResult blackbox_resume(const std::string& run_dir, const BlackBoxOptions& options);

class Cluster;
// The whole life of a worker rank under mpirun (rank 0 runs blackbox_search/resume with
// options.cluster set): waits for rank 0's setup message (the run folder and the search's
// config), then trains the trials it sends until told to quit. Its CPU threads are the machine's
// cores divided among the ranks on it (unless options.threads says otherwise), and with CUDA it
// takes the GPU of its local rank. It logs to worker-<rank>.log in the run folder.
void serve_trials(const Cluster& cluster, const BlackBoxOptions& options);

}  // namespace fusenas::nas
