// One-shot performance estimation (issue 13): one shared-weight supernet over an architecture
// space, trained once with a uniformly sampled path per step, then used to score candidates with
// the shared weights on a fixed set of search-val batches.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::estimate {

struct OneShotConfig {
  int epochs = 10;   // passes over search-train; the cosine schedule spans all their steps
  double lr = 0.05;  // SGD, annealed per step by a cosine down to lr_min (ENAS's macro lr)
  double lr_min = 0.001;
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double grad_clip = 5.0;  // global L2 norm; 0 turns clipping off

  // Throws fusenas::Error naming the field and the rule for the first bad value.
  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static OneShotConfig from_json(const nlohmann::json& j);
};

// One finished epoch of shared-weight training (over the sampled paths of that epoch).
struct OneShotEpoch {
  int epoch = 0;  // 1-based
  double loss = 0;
  double acc = 0;  // percent, on the training batches as they were trained
  double lr = 0;   // at the epoch's last step
  double seconds = 0;
  nlohmann::json to_json() const;
};

struct OneShotHooks {
  // Asked before every step: true stops training at that step boundary (train() returns false;
  // save() then records the position and a later train() continues exactly there).
  std::function<bool()> stop;
  // After every step: (steps done, steps in all epochs), for a progress bar.
  std::function<void(int64_t, int64_t)> on_step;
  std::function<void(const OneShotEpoch&)> on_epoch;
};

// The shared-weight network of a space: its weights as one module and the forward of one point.
// Built per space in one_shot_networks.cpp.
struct SharedPaths {
  std::shared_ptr<nn::Module> weights;
  // Logits of a validated point of the space on x [N, H, W, C], through the shared weights.
  std::function<Tensor(const space::Point&, const Tensor&)> forward;
};

// multibranch: enas::MacroSupernet (a MixedOp over the 6 macro ops per layer; a point is an
// enas::MacroArch). darts-cell: the DARTS Supernet over the space's ops, nodes, cells and C, run
// on a genotype's one-shot choice (CellChoice) through the fused darts_cell op. chain: a
// ChainSupernet (chain_supernet.h). Throws fusenas::Error for another space.
SharedPaths make_shared_paths(const space::ArchSpace& space, const space::ImageShape& shape,
                              Generator& gen);

class OneShotEstimator {
 public:
  // `space_name` and `space_options` as make_arch_space takes them (the checkpoint records both
  // and load() refuses a checkpoint of another space). Weights are drawn from `seed`; the
  // sampled paths come from a stream of their own derived from it.
  OneShotEstimator(const std::string& space_name, const nlohmann::json& space_options,
                   const space::ImageShape& shape, const OneShotConfig& config, uint64_t seed,
                   Device device = Device::cpu());
  // The same for a space built already (its name and options are read back from it).
  OneShotEstimator(const space::ArchSpace& space, const space::ImageShape& shape,
                   const OneShotConfig& config, uint64_t seed, Device device = Device::cpu());
  ~OneShotEstimator();
  OneShotEstimator(const OneShotEstimator&) = delete;
  OneShotEstimator& operator=(const OneShotEstimator&) = delete;

  // Trains the shared weights from where they are to config.epochs epochs of `search_train`
  // (the loader is set to the estimator's position first, so a loaded checkpoint continues
  // exactly). Each step samples one point uniformly (space.sample) and takes one SGD step on it
  // alone, so only that path's weights move (random-path training: Bender et al. 2018, Li &
  // Talwalkar 2019). True when every epoch is done, false when hooks.stop stopped it.
  bool train(data::DataLoader& search_train, const OneShotHooks& hooks = {});

  // The shared weights, the SGD momentum, the sampling stream and the position, in
  // <dir>/checkpoint.json + checkpoint.<n>.safetensors (the run checkpoint format, written
  // atomically; use a folder of its own, not a run folder that has a checkpoint).
  void save(const std::string& dir) const;
  // Throws fusenas::Error naming the folder for a missing, torn or corrupt checkpoint, one of
  // another format, space, space options, image shape or config.
  void load(const std::string& dir);

  // The candidate's logits on x with the shared weights, without gradients. Batch norms use the
  // batch's own statistics (see score()); the running statistics are left as they were.
  Tensor logits(const space::Point& arch, const Tensor& x);
  // The candidate's accuracy (percent) on `batches` with the shared weights. BN normalises with
  // each batch's statistics, as ENAS's micro search scores its children: the running averages
  // mix the statistics of every path trained, which fit no single candidate (a sum over other
  // skips, other ops), so they would rank candidates by how close they are to the average path.
  // Fixed batches keep the score a function of the weights and the candidate alone.
  double score(const space::Point& arch, const std::vector<data::Batch>& batches);
  // The first `count` batches (all when count <= 0 or more than there are) of epoch 0 of
  // `eval`: search-val in a fixed order, the scoring set.
  static std::vector<data::Batch> validation_batches(const data::DataLoader& eval, int64_t count);

  const space::ArchSpace& space() const { return *space_; }
  const OneShotConfig& config() const { return config_; }
  nn::Module& weights() { return *paths_.weights; }
  int epochs_done() const { return epoch_; }
  bool trained() const { return epoch_ >= config_.epochs; }
  // The finished epochs' records (kept across save/load).
  const std::vector<OneShotEpoch>& history() const { return history_; }

 private:
  nlohmann::json identity() const;
  double lr_at(int64_t step, int64_t total) const;

  std::string space_name_;
  nlohmann::json space_options_;
  std::shared_ptr<space::ArchSpace> space_;
  space::ImageShape shape_;
  OneShotConfig config_;
  uint64_t seed_;
  Device device_;
  SharedPaths paths_;
  std::vector<Tensor> params_;
  std::unique_ptr<optim::SGD> optimizer_;
  Generator sampler_;  // the sampled paths

  // Position: epoch_ epochs finished, step_ steps of the next one; steps_per_epoch_ of the loader
  // it trained on (0 before any training), checked when training continues.
  int epoch_ = 0;
  int64_t step_ = 0;
  int64_t steps_per_epoch_ = 0;
  // The current epoch's sums so far.
  double loss_sum_ = 0;
  int64_t correct_ = 0, seen_ = 0;
  double seconds_ = 0;
  std::vector<OneShotEpoch> history_;
};

}  // namespace fusenas::nas::estimate
