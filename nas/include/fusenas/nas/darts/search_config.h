// DARTS search configuration: the presets, every hyperparameter (DARTS's train_search.py values
// by default), validation, the config.json form, and the per-invocation options.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/nas/darts/architect.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/run_options.h"
#include "fusenas/nas/space/search_space.h"

namespace fusenas::nas {

struct DartsConfig {
  std::string preset = "paper";  // "quick" or "paper": where the values below started from
  // Search space: the section's DARTS defaults, and ops (empty = the 8 DARTS candidates).
  SupernetSection supernet{.ops = std::vector<std::string>{}};
  // Data: the training set (optionally its first train_subset images) split into search-train
  // and search-val by train_portion.
  DataSection data{.train_portion = 0.5};
  // Weights: SGD, cosine from lr to lr_min over the epochs (stepped per epoch).
  int epochs = 50;
  int64_t batch_size = 64;
  SgdSection sgd{.lr = 0.025, .lr_min = 0.001};
  // Alphas: Adam (the section's defaults are DARTS's). The first warmup_epochs epochs train the
  // weights only (alphas frozen), as PC-DARTS and P-DARTS do, so that the alphas start moving once
  // the candidate ops compute something.
  int order = 1;
  int warmup_epochs = 0;
  AdamSection arch;
  uint64_t seed = 0;

  // Fills data_dir, ops, crop_padding and flip with their defaults.
  DartsConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
  SearchSpace space(int64_t in_channels, int64_t image_size, int64_t num_classes) const;
  ArchitectConfig architect() const;
  SearchDataConfig search_data() const;
};

// The preset's values: "paper" (C=16, 8 cells, batch 64, 50 epochs, the whole training set) or
// "quick" (a small network on a subset that finishes in minutes on two CPU cores).
DartsConfig darts_preset(const std::string& name);

nlohmann::json to_json(const DartsConfig& c);
// Unknown keys are an error; missing keys keep their defaults.
DartsConfig darts_config_from_json(const nlohmann::json& j);

using DartsOptions = RunOptions;

}  // namespace fusenas::nas
