// Final-training configuration (what DARTS's train.py takes as flags): the hyperparameters saved in
// a run's config.json, the per-invocation options that are not, and their validation.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/genotype.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/run/run_options.h"

namespace fusenas::nas {

// Everything that determines the trained weights. Saved as config.json; `--resume` reads it back.
struct TrainConfig {
  // Architecture, one of: a built-in cell by name, a genotype file (DARTS text or JSON), or
  // `arch_file`, an architecture a black-box search found (arch_file.h): nas_search's
  // incumbent.json, or a bare point of `space`.
  std::string arch = "DARTS_V2";
  std::string genotype_file;
  std::string arch_file;
  // The space of arch_file's architecture: "darts-cell", "chain", "multibranch" or "zoph-le" (an
  // incumbent names its own; a given one must agree). Empty for arch and genotype_file.
  std::string space;
  // Chain, multibranch and zoph-le options (make_space.h). resolved() puts these keys over the
  // search's (the config.json beside an incumbent) and fills in the space's defaults for the rest.
  nlohmann::json space_options = nlohmann::json::object();
  // What resolved() reads from the files; once set they win over arch, genotype_file and
  // arch_file, so a resumed run does not depend on a file still being there. genotype_text: the
  // cell in DARTS text form (genotype networks); space_arch: the chain, multibranch or zoph-le
  // point.
  std::string genotype_text;
  nlohmann::json space_arch;
  // The width. Genotype networks: the first cells' channels (C). Chain: the stem's channels, with
  // every layer's filter count scaled by init_channels / the searched stem_channels (rounded).
  // Multibranch: every layer's channels (even). Zoph-le: the widest filter choice's, with every
  // layer's filter count scaled by init_channels / the options' widest filters (rounded).
  // 0: 16 for genotypes, the searched width otherwise.
  int64_t init_channels = 0;
  int layers = 0;  // genotype networks only: cells; 0 = 8

  // Data: all training images (or the first train_subset), no split.
  DataSection data;
  int64_t test_subset = 0;  // > 0: evaluate on the first N test images only (quick checks)

  // Optimisation: DARTS train.py's batch size and the SGD section's defaults. The lr follows a
  // cosine from sgd.lr to sgd.lr_min over `epochs`, stepped once per epoch.
  int epochs = 10;
  int64_t batch_size = kTrainingBatchSize;
  SgdSection sgd;

  // Regularisation. Drop-path ramps linearly: epoch e uses drop_path * e / epochs. The auxiliary
  // head and drop-path exist in genotype networks only (cells with paths, a head at 2/3 depth).
  int64_t cutout = 0;      // cutout square side in pixels; 0 = off
  double auxiliary = 0.0;  // auxiliary-head loss weight (DARTS: 0.4); 0 = no head
  double drop_path = -1;   // -1: DARTS train.py's 0.2 for genotypes, 0 (none) otherwise

  uint64_t seed = 0;

  // Reads the architecture (genotype_text or space, space_arch and the whole space_options) and
  // fills the defaults: width, cells, drop-path and the dataset's (data_dir, crop_padding, flip).
  TrainConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value (or architecture file).
  void validate() const;
  // Whether the network is a genotype's EvalNetwork (arch, genotype_file or a darts-cell
  // arch_file) rather than a chain, multibranch or zoph-le network.
  bool is_genotype_network() const;
  // The genotype the config names: a built-in cell or the file's (throws naming the file or the
  // known cells, or saying that the architecture is no genotype).
  Genotype genotype() const;

  // Input geometry of the dataset: (channels, image size).
  int64_t in_channels() const { return data.in_channels(); }
  int64_t image_size() const { return data.image_size(); }
};

nlohmann::json to_json(const TrainConfig& c);
// Reads what to_json wrote; unknown keys are an error, missing keys keep their defaults.
TrainConfig train_config_from_json(const nlohmann::json& j);

using TrainOptions = RunOptions;

}  // namespace fusenas::nas
