// Final training of a genotype (DARTS train.py): data, evaluation network, SGD with a cosine
// schedule, per-epoch evaluation, metrics and resumable checkpoints in a run folder.
#pragma once

#include <cstdint>
#include <string>

#include "fusenas/nas/train/train_config.h"

namespace fusenas::nas {

struct TrainResult {
  std::string run_dir;
  bool finished = false;  // all epochs done (otherwise stopped by a signal or the test hook)
  int epochs_done = 0;
  double test_acc = 0.0;  // percent, after the last finished epoch
  double test_loss = 0.0;
  int64_t params = 0;  // auxiliary head excluded
};

// Starts a new run in options.out_dir (which must not already hold a checkpoint). Returns when
// all epochs are done, or early (finished = false) after checkpointing when SIGINT/SIGTERM
// arrives. Throws fusenas::Error for a bad config, missing data or an unusable run folder.
TrainResult train(const TrainConfig& config, const TrainOptions& options);

// Continues the run in `run_dir` from its checkpoint with its saved config.json; options.out_dir
// is ignored. On the CPU the finished run is bit-for-bit the uninterrupted one.
TrainResult resume(const std::string& run_dir, const TrainOptions& options);

// The network summary and a final line `params: N` (auxiliary head excluded), without data.
std::string dry_run_summary(const TrainConfig& config);

}  // namespace fusenas::nas
