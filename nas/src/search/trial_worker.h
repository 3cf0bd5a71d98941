// A worker rank of a search under mpirun: trains the trials rank 0 sends and reports each one
// back; and the job and report messages both sides read.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/device.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/search/cluster.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/hp_space.h"
#include "trial_trainer.h"

namespace fusenas::nas {

// What rank 0 sends: {"trial": id, "arch": point, "hp": {batch_size, lr, momentum,
// weight_decay}, "epochs": n}. The network's initial weights come from the config's seed and the
// trial id, as in a single-process search, so a trial's result does not depend on its rank.
nlohmann::json trial_job(int64_t trial_id, const space::Point& arch,
                         const space::Hyperparameters& hp, int epochs);

// What a worker answers: the outcome, the parameter count, the wall time and, for a trial that
// threw (diverged, out of memory, ...), the reason.
struct TrialReport {
  int64_t trial = 0;
  TrialOutcome outcome;  // outcome.finished false: a stop signal cut it short
  int64_t params = 0;
  double wall_seconds = 0;
  std::string failure;  // empty unless it failed
};
nlohmann::json to_json(const TrialReport& r);
TrialReport trial_report_from_json(const nlohmann::json& j);

// Rank 0's setup message (Cluster::release_workers() sends the end-of-search one).
nlohmann::json worker_setup(const std::string& run_dir, const BlackBoxConfig& config);

}  // namespace fusenas::nas
