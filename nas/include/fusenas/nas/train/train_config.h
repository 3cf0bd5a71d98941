// Final-training configuration (what DARTS's train.py takes as flags): the hyperparameters saved in
// a run's config.json, the per-invocation options that are not, and their validation.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/genotype.h"
#include "fusenas/nas/run/run_options.h"

namespace fusenas::nas {

// Everything that determines the trained weights. Saved as config.json; `--resume` reads it back.
struct TrainConfig {
  // Architecture: a built-in cell by name, or a genotype file (DARTS text or JSON) when set.
  std::string arch = "DARTS_V2";
  std::string genotype_file;
  // The cell in DARTS text form; resolved() fills it, and when set it wins over arch and
  // genotype_file (a resumed run does not depend on the file still being there).
  std::string genotype_text;
  int64_t init_channels = 16;
  int layers = 8;

  // Data. An empty data_dir means the dataset's standard location.
  std::string dataset = "fashion-mnist";  // or "cifar10"
  std::string data_dir;
  int64_t train_subset = 0;  // > 0: train on the first N training images only
  int64_t test_subset = 0;   // > 0: evaluate on the first N test images only (quick checks)

  // Optimisation, DARTS train.py's values unless noted. The lr follows a cosine from `lr` to
  // `lr_min` over `epochs`, stepped once per epoch.
  int epochs = 10;
  int64_t batch_size = 96;
  double lr = 0.05;  // DARTS: 0.025 for 600 epochs; short runs need the larger step
  double lr_min = 0.0;
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double grad_clip = 5.0;  // max global L2 norm of the gradients; 0 = off

  // Regularisation. Drop-path ramps linearly: epoch e uses drop_path * e / epochs.
  int64_t cutout = 0;         // cutout square side in pixels; 0 = off
  double auxiliary = 0.0;     // auxiliary-head loss weight (DARTS: 0.4); 0 = no head
  double drop_path = 0.2;     // DARTS train.py's default
  int64_t crop_padding = -1;  // random crop padding; -1 = the dataset's default (see resolved())
  int flip = -1;              // horizontal flip: 1 on, 0 off, -1 the dataset's default

  uint64_t seed = 0;

  // Fills genotype_text and the dataset-dependent defaults (data_dir, crop_padding, flip).
  TrainConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
  // The genotype the config names: a built-in cell or the file's (throws naming the file or the
  // known cells).
  Genotype genotype() const;

  // Input geometry of the dataset: (channels, image size).
  int64_t in_channels() const;
  int64_t image_size() const;
};

nlohmann::json to_json(const TrainConfig& c);
// Reads what to_json wrote; unknown keys are an error, missing keys keep their defaults.
TrainConfig train_config_from_json(const nlohmann::json& j);

using TrainOptions = RunOptions;

}  // namespace fusenas::nas
