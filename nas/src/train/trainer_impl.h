// The training run behind train()/resume(): its components, its position (epoch, batch) and the
// partial accumulators of the current epoch, all of which a checkpoint captures.
#pragma once

#include <memory>
#include <optional>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/train/trainer.h"
#include "train_network.h"

namespace fusenas::nas {

class Trainer : private RunBody {
 public:
  // `config` must be resolved and valid. Builds data, network and optimizer; loads nothing.
  Trainer(const TrainConfig& config, const TrainOptions& options, const std::string& run_dir);
  // Restores the run position and every piece of state from the run folder's checkpoint.
  void restore();
  TrainResult run();

 private:
  void setup_data();
  void setup_model();
  // RunBody: one phase of SGD steps, then the test-set evaluation.
  void begin_phase(size_t phase) override;
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override;
  TrainResult result() const;
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
  TrainNetwork net_;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<optim::CosineAnnealingLR> scheduler_;
  Generator drop_gen_;
  std::unique_ptr<EpochRunner> runner_;  // the position, the epoch's sums, the loop
  std::vector<Tensor> params_;           // for gradient clipping

  double last_test_acc_ = 0, last_test_loss_ = 0;
};

}  // namespace fusenas::nas
