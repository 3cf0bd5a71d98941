// ENAS search runs: start, resume, and what they leave in the run folder.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "fusenas/nas/enas/arch.h"
#include "fusenas/nas/enas/search_config.h"
#include "fusenas/nas/genotype.h"

namespace fusenas::nas::enas {

struct EnasResult {
  std::string run_dir;
  bool finished = false;  // all epochs and the derivation done (otherwise stopped by a signal)
  int epochs_done = 0;
  // Set when finished: the derived architecture, its accuracy (percent) on the derivation's
  // search-val batch and on the whole search-val split, with the shared weights.
  std::optional<std::variant<MicroArch, MacroArch>> arch;
  double derive_acc = 0.0;
  double val_acc = 0.0;
  std::optional<Genotype> genotype;  // micro only
  std::string train_command;         // micro only: the nas_train command that trains it
};

// Starts a search in options.out_dir (which must not hold a checkpoint yet). Returns when all
// epochs and the derivation are done, or early (finished = false) after checkpointing on
// SIGINT/SIGTERM.
EnasResult enas_search(const EnasConfig& config, const EnasOptions& options);
// Continues the search in `run_dir` with its saved config.json; on the CPU the finished search
// is bit-for-bit the uninterrupted one.
EnasResult enas_resume(const std::string& run_dir, const EnasOptions& options);

}  // namespace fusenas::nas::enas
