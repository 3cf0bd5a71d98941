// DARTS search runs: start, resume, and what they leave in the run folder.
#pragma once

#include <string>

#include "fusenas/nas/darts/search_config.h"
#include "fusenas/nas/genotype.h"

namespace fusenas::nas {

struct DartsResult {
  std::string run_dir;
  bool finished = false;  // all epochs done (otherwise stopped by a signal or the test hook)
  int epochs_done = 0;
  double val_acc = 0.0;       // percent on the search-val split after the last finished epoch
  Genotype genotype;          // derived from the alphas as they are now
  std::string train_command;  // the nas_train command line that trains the genotype
};

// Starts a search in options.out_dir (which must not hold a checkpoint yet). Returns when all
// epochs are done, or early (finished = false) after checkpointing on SIGINT/SIGTERM.
DartsResult darts_search(const DartsConfig& config, const DartsOptions& options);
// Continues the search in `run_dir` with its saved config.json; on the CPU the finished search
// is bit-for-bit the uninterrupted one.
DartsResult darts_resume(const std::string& run_dir, const DartsOptions& options);

}  // namespace fusenas::nas
