// The ENAS search run behind enas_search()/enas_resume(): data splits, the shared-weight child,
// its SGD, the controller with its REINFORCE trainer, the run position and the epoch's partial
// sums, all of which a checkpoint captures.
#pragma once

#include <memory>
#include <variant>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/darts/supernet.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/enas/reinforce.h"
#include "fusenas/nas/enas/search.h"
#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/stop_signal.h"

namespace fusenas::nas::enas {

using Arch = std::variant<MicroArch, MacroArch>;

struct EnasTotals {
  // Shared-weight training.
  double loss_sum = 0;  // loss * batch size
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;
  // Controller steps (sums of the per-step means).
  double reward_sum = 0;
  double entropy_sum = 0;
  double skip_rate_sum = 0;
  double controller_seconds = 0;
  double best_reward = -1;  // the epoch's best sampled child
  std::string best_arch;    // its ENAS arc string
};

struct Derived {
  Arch arch;
  double acc = 0;      // percent on the derivation batch
  double val_acc = 0;  // percent on the whole search-val split
};

class EnasSearcher {
 public:
  // `config` must be resolved and valid.
  EnasSearcher(const EnasConfig& config, const EnasOptions& options, const std::string& run_dir);
  void restore();
  EnasResult run();

 private:
  bool train_shared(const StopSignal& stop);
  bool train_controller(const StopSignal& stop);
  void end_epoch();
  Derived derive();
  void write_result(const Derived& d, EnasResult& r) const;
  void save_checkpoint() const;
  EnasResult stopped(const char* where);
  bool stopping(const StopSignal& stop) const;
  int64_t global_step() const;
  int64_t steps_per_epoch() const;
  Tensor on_device(const Tensor& t) const;

  // The shared-weight child running `arch`.
  Tensor child_forward(const Tensor& x, const Arch& arch);
  // A fresh architecture from the controller, without recording its gradient.
  Arch sample_child(Generator& gen);
  // Correct predictions of `arch` on a batch, with the shared weights (batch statistics).
  int64_t child_correct(const data::Batch& batch, const Arch& arch);

  EnasConfig config_;
  EnasOptions options_;
  Device device_;
  data::Dataset data_;
  RunDir run_;
  RunLog log_;

  std::unique_ptr<data::DataLoader> train_loader_, val_loader_, eval_loader_;
  nas::SearchSpace micro_space_;
  std::shared_ptr<Supernet> micro_net_;
  std::shared_ptr<MacroSupernet> macro_net_;
  nn::Module* child_ = nullptr;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<ReinforceTrainer> trainer_;

  int epoch_ = 0;
  int64_t batch_ = 0;  // shared-weight minibatches done this epoch
  int ctrl_step_ = 0;  // controller steps done this epoch
  EnasTotals totals_;
  DeferredStepStats step_stats_;  // steps not yet added into totals_
};

}  // namespace fusenas::nas::enas
