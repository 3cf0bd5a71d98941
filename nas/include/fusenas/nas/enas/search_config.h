// ENAS search configuration: the presets of both spaces, every hyperparameter (ENAS's search
// scripts' values by default), validation, the config.json form, and the per-invocation options.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/enas/controller.h"
#include "fusenas/nas/enas/reinforce.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/run_options.h"

namespace fusenas::nas::enas {

struct EnasConfig {
  std::string space = "micro";   // "micro" (cells) or "macro" (a layer chain)
  std::string preset = "paper";  // "quick" or "paper": where the values below started from
  // Child network. Micro: `cells` cells in all, reductions at 1/3 and 2/3 (ENAS's 6 layers are 8
  // cells: its two reduction cells come on top); macro: `cells` layers.
  SupernetSection supernet{.channels = 20, .cells = 8, .nodes = 5};  // nodes: micro only
  // Data: the training set (optionally its first train_subset images) split into search-train
  // (shared weights) and search-val (rewards, derivation) by train_portion, 45000/5000 as ENAS.
  DataSection data{.train_portion = 0.9};
  // Shared weights: SGD with Nesterov momentum; cosine from lr to lr_min stepped per epoch, with
  // warm restarts after lr_t0 epochs, then lr_t0 * lr_tmul, ... (lr_t0 = 0: one cosine over all
  // epochs). The lr is the section's 0.05, ENAS's too; sgd.weight_decay is ENAS's lambda (see
  // sgd_weight_decay()).
  int epochs = 150;
  int64_t batch_size = 160;
  SgdSection sgd{.lr_min = 0.0005, .weight_decay = 1e-4};
  int lr_t0 = 10;
  int lr_tmul = 2;
  bool nesterov = true;
  // Controller, trained after every epoch of shared weights: controller_steps Adam steps, each
  // averaging the policy gradients of samples_per_step sampled children.
  int controller_steps = 30;
  int samples_per_step = 10;
  AdamSection controller_adam = kEnasControllerAdam;
  int64_t controller_hidden = 64;
  double entropy_weight = 1e-4;
  double baseline_decay = 0.99;
  double tanh_constant = 1.10;
  double op_tanh_reduce = 2.5;  // micro only: op logits use tanh_constant / op_tanh_reduce
  double skip_target = 0.4;     // macro only
  double skip_weight = 0.8;     // macro only
  // Derivation: sample this many architectures and keep the best on one search-val batch.
  int derive_samples = 100;
  uint64_t seed = 0;

  bool micro() const { return space == "micro"; }
  // Fills data_dir, crop_padding and flip with the dataset's defaults.
  EnasConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
  ControllerConfig controller() const;
  ReinforceConfig reinforce() const;
  // weight_decay is ENAS's lambda: its loss adds lambda * sum w^2, a gradient of 2 lambda w, so
  // the weight decay SGD adds to the gradient is 2 lambda.
  double sgd_weight_decay() const;
  // ENAS scores micro children with batch statistics (micro_child.py) and macro children with
  // the moving averages (general_child.py, _model(x, False)).
  bool rewards_use_batch_statistics() const;
  nas::SearchSpace micro_space(int64_t in_channels, int64_t image_size, int64_t num_classes) const;
  MacroSpace macro_space(int64_t in_channels, int64_t num_classes) const;
  SearchDataConfig search_data() const;
  // The shared weights' lr in (0-based) `epoch`.
  double lr_at(int epoch) const;
};

// The preset's values for `space`. Micro "paper": ENAS's micro search (C=20, 8 cells, batch 160,
// 150 epochs, 30 steps of 10 samples); macro "paper": ENAS's macro search (C=36, 12 layers,
// batch 128, 310 epochs, weight decay 2.5e-4, tanh 1.5, controller lr 1e-3, 50 steps of 20).
// "quick": a small child (C=8 and 5 cells, or C=16 and 12 layers) on 10000 images, 5 epochs of
// one cosine, 10 steps of 10 samples, 20 derived samples: minutes on two CPU cores.
EnasConfig enas_preset(const std::string& name, const std::string& space = "micro");

nlohmann::json to_json(const EnasConfig& c);
// Unknown keys are an error; missing keys keep their defaults.
EnasConfig enas_config_from_json(const nlohmann::json& j);

using EnasOptions = RunOptions;

}  // namespace fusenas::nas::enas
