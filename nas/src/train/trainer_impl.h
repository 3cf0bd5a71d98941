// The training run behind train()/resume(): its components, its position (epoch, batch) and the
// partial accumulators of the current epoch, all of which a checkpoint captures.
#pragma once

#include <memory>
#include <optional>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/stop_signal.h"
#include "fusenas/nas/train/trainer.h"

namespace fusenas::nas {

// Sums over the batches of one epoch so far; checkpointed so a resumed epoch reports the same.
struct EpochTotals {
  double loss_sum = 0;  // sum of batch loss * batch size
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;
};

class Trainer {
 public:
  // `config` must be resolved and valid. Builds data, network and optimizer; loads nothing.
  Trainer(const TrainConfig& config, const TrainOptions& options, const std::string& run_dir);
  // Restores the run position and every piece of state from the run folder's checkpoint.
  void restore();
  TrainResult run();

 private:
  void setup_data();
  void setup_model();
  // Trains epoch_ from batch_ on; false when stopped mid-way.
  bool train_epoch(const StopSignal& stop);
  EvalResult evaluate(const StopSignal& stop);
  void end_epoch(const EvalResult& test);
  void save_checkpoint() const;
  TrainResult stopped(const char* where);
  TrainResult result() const;
  bool stopping(const StopSignal& stop) const;
  int64_t global_step() const;
  double drop_prob() const;

  // Declaration order is construction order: the data loads before the run folder is created,
  // so a missing dataset leaves no empty folder behind.
  TrainConfig config_;
  TrainOptions options_;
  Device device_;
  data::Dataset train_data_, test_data_;
  RunDir run_;
  RunLog log_;

  std::unique_ptr<data::DataLoader> train_loader_, test_loader_;
  std::shared_ptr<EvalNetwork> net_;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<optim::CosineAnnealingLR> scheduler_;
  Generator drop_gen_;

  // Position: the next batch to train is (epoch_, batch_); batch_ == batches per epoch means the
  // epoch's training is done and its evaluation is pending.
  int epoch_ = 0;
  int64_t batch_ = 0;
  EpochTotals totals_;
  DeferredStepStats step_stats_;  // steps not yet added into totals_
  bool finished_ = false;
  double last_test_acc_ = 0, last_test_loss_ = 0;
};

}  // namespace fusenas::nas
