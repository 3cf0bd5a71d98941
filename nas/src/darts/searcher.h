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
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/graphed_step.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas {

class DartsSearcher : private RunBody {
 public:
  // `config` must be resolved and valid.
  DartsSearcher(const DartsConfig& config, const DartsOptions& options, const std::string& run_dir);
  void restore();
  DartsResult run();

 private:
  // RunBody: one phase of search steps, then the search-val evaluation.
  void begin_phase(size_t phase) override;
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override;
  void write_artifacts(bool render) const;
  DartsResult result() const;
  // This epoch trains the weights only (DartsConfig::warmup_epochs).
  bool warming_up() const { return runner_->epoch() < config_.warmup_epochs; }
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
  std::unique_ptr<EpochRunner> runner_;  // the position, the epoch's sums, the loop

  double last_val_acc_ = 0;
};

}  // namespace fusenas::nas
