// Reading the architecture a black-box search found (nas_search's incumbent.json, or a bare point
// of a space) for final training, with the search's space options and hyperparameters.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>

#include "fusenas/nas/train/train_config.h"

namespace fusenas::nas {

struct ArchFile {
  std::string space;    // "darts-cell", "chain", "multibranch" or "zoph-le"
  nlohmann::json arch;  // the space's point (a genotype's JSON form for darts-cell)
  // The search's options (`space_options` of the config.json beside an incumbent), with the given
  // keys put over them. Not read for darts-cell: a genotype trains in nas_train's own network.
  nlohmann::json space_options = nlohmann::json::object();
  // Which options those are, for messages: "the options in <dir>/config.json", ...
  std::string options_source;
  nlohmann::json hp;   // an incumbent's hyperparameters; null for a bare point
  int64_t trial = -1;  // an incumbent's trial; -1 for a bare point
};

// Reads `path`: an incumbent ({"space", "arch", "hp", ...}; `space`, when not empty, must agree)
// or a bare point of `space` (then required). `options` are the space options given. Throws
// fusenas::Error naming the file and the first thing wrong; the point itself is checked later
// against the space (TrainConfig::resolved()).
ArchFile read_arch_file(const std::string& path, const std::string& space,
                        const nlohmann::json& options);

// Copies the incumbent's hyperparameters named by config.arch_file (batch size, lr, momentum,
// weight decay) into `config`, except the fields named in `keep` ("batch_size", "lr", "momentum",
// "weight_decay": the ones set by hand). Returns what it copied ("batch size 64, lr 0.02"), empty
// when nothing was (no arch file, a bare point, or all kept).
std::string adopt_incumbent_hyperparameters(TrainConfig& config, const std::set<std::string>& keep);

}  // namespace fusenas::nas
