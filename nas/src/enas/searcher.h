// The ENAS search run behind enas_search()/enas_resume(): data splits, the shared-weight child,
// its SGD, the controller with its REINFORCE trainer, the run position and the epoch's partial
// sums, all of which a checkpoint captures.
#pragma once

#include <memory>
#include <variant>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/enas/reinforce.h"
#include "fusenas/nas/enas/search.h"
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas::enas {

using Arch = std::variant<MicroArch, MacroArch>;

// The controller phase's sums over the current epoch (the shared-weight phase's are the runner's).
struct ControllerTotals {
  // Sums of the per-step means.
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

class EnasSearcher : private RunBody {
 public:
  // `config` must be resolved and valid.
  EnasSearcher(const EnasConfig& config, const EnasOptions& options, const std::string& run_dir);
  void restore();
  EnasResult run();

 private:
  // RunBody: a phase of shared-weight steps, then a phase of controller steps.
  void begin_phase(size_t phase) override;
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override;
  void shared_step();
  void controller_step();
  Derived derive();
  void write_result(const Derived& d, EnasResult& r) const;
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

  std::unique_ptr<EpochRunner> runner_;  // the position, the shared phase's sums, the loop
  ControllerTotals ctrl_;
  ReinforceStats last_step_;  // the latest controller step, for the progress bar
};

}  // namespace fusenas::nas::enas
