// Language-model training (nas_train --task lm; DARTS's rnn/train.py): a recurrent cell's word
// or character LM on a corpus, SGD then NT-ASGD, validation perplexity per epoch, the best
// weights kept, test perplexity at the end, resumable checkpoints in a run folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/train/lm_config.h"

namespace fusenas::nas {

struct LmTrainResult {
  std::string run_dir;
  bool finished = false;  // all epochs done (otherwise stopped by a signal or the test hook)
  int epochs_done = 0;
  double best_valid_loss = 0;  // nats per token of the best epoch's weights
  double test_loss = 0;        // the best weights on the test split (after the last epoch)
  bool asgd = false;           // NT-ASGD has switched to averaging
  int64_t params = 0;
  // On CUDA (unless RunOptions::eager): SGD windows replayed from CUDA graphs, and the graphs
  // captured (one per window length). 0 on the CPU.
  int64_t graph_replays = 0, graph_captures = 0;
  double valid_ppl() const;
  double test_ppl() const;
};

// Starts a new run in options.out_dir. Returns when all epochs are done, or early (finished =
// false) after checkpointing when SIGINT/SIGTERM arrives. Throws fusenas::Error for a bad config,
// a missing corpus or an unusable run folder.
LmTrainResult train_lm(const LmTrainConfig& config, const RunOptions& options);

// Continues the run in `run_dir` from its checkpoint with its saved config.json. On the CPU the
// finished run is bit-for-bit the uninterrupted one.
LmTrainResult resume_lm(const std::string& run_dir, const RunOptions& options);

// Whether the config.json in `run_dir` is a language-model run's (its "task" is "lm").
bool is_lm_run(const std::string& run_dir);

// The model summary (cell, sizes) and a final line `params: N`, after reading the corpus for its
// vocabulary size.
std::string lm_dry_run_summary(const LmTrainConfig& config);

// NT-ASGD's trigger (AWD-LSTM, DARTS rnn/train.py): with `history` the validation losses of the
// earlier SGD epochs, switch when more than `nonmono` exist and `loss` is worse than the best of
// all but the last `nonmono` of them. nonmono 0 never switches.
bool should_switch_to_asgd(const std::vector<double>& history, double loss, int nonmono);

}  // namespace fusenas::nas
