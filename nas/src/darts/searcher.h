// The DARTS search run behind darts_search()/darts_resume(): data splits, supernet, both
// optimisers, the run position and the epoch's partial sums, all of which a checkpoint captures.
#pragma once

#include <memory>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/darts/architect.h"
#include "fusenas/nas/darts/search.h"
#include "fusenas/nas/darts/search_step.h"
#include "fusenas/nas/darts/supernet.h"
#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/graphed_step.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/stop_signal.h"

namespace fusenas::nas {

struct SearchTotals {
  double loss_sum = 0;      // weight-step training loss * batch size
  double val_loss_sum = 0;  // architect's validation loss * batch size
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;
};

class DartsSearcher {
 public:
  // `config` must be resolved and valid.
  DartsSearcher(const DartsConfig& config, const DartsOptions& options, const std::string& run_dir);
  void restore();
  DartsResult run();

 private:
  bool train_epoch(const StopSignal& stop);
  EvalResult evaluate(const StopSignal& stop);
  void end_epoch(const EvalResult& val);
  void write_artifacts(bool render) const;
  void save_checkpoint() const;
  DartsResult stopped(const char* where);
  DartsResult result() const;
  bool stopping(const StopSignal& stop) const;
  int64_t global_step() const;
  // This epoch trains the weights only (DartsConfig::warmup_epochs).
  bool warming_up() const { return epoch_ < config_.warmup_epochs; }
  // One search step on this batch pair: replayed from a CUDA graph where there is one.
  SearchStepResult search_step(const data::Batch& train, const data::Batch& val);
  Tensor on_device(const Tensor& t) const;

  DartsConfig config_;
  DartsOptions options_;
  Device device_;
  data::Dataset data_;
  RunDir run_;
  RunLog log_;

  std::unique_ptr<data::DataLoader> train_loader_, val_loader_, eval_loader_;
  std::shared_ptr<Supernet> net_;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<optim::CosineAnnealingLR> scheduler_;
  std::unique_ptr<Architect> architect_;
  std::unique_ptr<GraphedStep> graphs_;  // CUDA without options.eager: replayed search steps

  int epoch_ = 0;
  int64_t batch_ = 0;  // == batches per epoch: training done, evaluation pending
  SearchTotals totals_;
  DeferredStepStats step_stats_;  // steps not yet added into totals_
  double last_val_acc_ = 0;
};

}  // namespace fusenas::nas
