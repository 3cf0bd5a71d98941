// One black-box trial: a candidate network trained from scratch at its fidelity (SGD, cosine
// schedule, the run skeleton's epochs and stop) and scored on search-val after each epoch.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/wall_clock.h"
#include "fusenas/nas/search/search_config.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas {

// What one trial trains for, beyond the candidate and its hyperparameters.
struct TrialPlan {
  int epochs = 1;     // the cosine schedule spans them
  int downscale = 1;  // images are average-pooled by this factor before the network
  // Asked after each epoch with the curve so far: an object stops the trial as pruned (it holds
  // what the pruner knew); null goes on.
  std::function<nlohmann::json(const std::vector<nlohmann::json>& curve)> prune_check;
};

struct TrialOutcome {
  bool finished = false;  // false: a stop signal came first, or the trial was pruned
  nlohmann::json pruned;  // the prune_check's object when it stopped the trial
  double val_acc = 0, val_loss = 0, train_acc = 0, train_loss = 0;
  std::vector<nlohmann::json> curve;  // one object per epoch
};

// A fresh network of `arch` for trial `trial_id`: its initial weights come from the config's seed
// and the trial id only (so a trial trains the same wherever it runs), at the config's model
// scale (a narrower network of the same architecture below 1).
std::shared_ptr<space::Network> build_trial_network(const BlackBoxConfig& config,
                                                    const space::ArchSpace& space,
                                                    const space::Point& arch,
                                                    const space::ImageShape& shape,
                                                    int64_t trial_id);

class TrialTrainer : private RunBody {
 public:
  // `on_epoch` receives each epoch's metrics as soon as they are known (the database stores them).
  TrialTrainer(const data::Dataset& data, const BlackBoxConfig& config,
               std::shared_ptr<space::Network> net, const space::Hyperparameters& hp,
               TrialPlan plan, Device device, RunLog& log, const std::string& run_path,
               bool progress, std::function<void(const nlohmann::json&)> on_epoch);
  // Trains every epoch (or until a stop); a divergence or any other failure throws.
  TrialOutcome run();

 private:
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override {}  // a stopped trial runs again from scratch
  // The images the network sees: on the device, average-pooled by the plan's downscale.
  Tensor network_input(const Tensor& images) const;

  const BlackBoxConfig& config_;
  std::shared_ptr<space::Network> net_;
  TrialPlan plan_;
  Device device_;
  SearchLoaders loaders_;
  std::vector<Tensor> params_;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<optim::CosineAnnealingLR> scheduler_;
  std::function<void(const nlohmann::json&)> on_epoch_;
  std::unique_ptr<EpochRunner> runner_;
  TrialOutcome outcome_;
  WallClock::time_point started_;
};

}  // namespace fusenas::nas
