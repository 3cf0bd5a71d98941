// Language-model training configuration (what DARTS's rnn/train.py takes as flags, its defaults
// with their source): the corpus, the recurrent cell, SGD then NT-ASGD, dropout and AR/TAR. Saved
// as a run's config.json; validated with one clear sentence per bad value.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/rnn/recurrent_arch.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/run/run_options.h"

namespace fusenas::nas {

// config.json's "task" of a language-model run (nas_train --resume dispatches on it).
inline constexpr const char* kLmTask = "lm";

struct LmTrainConfig {
  std::string task = kLmTask;

  CorpusSection data;

  // The cell: a built-in (rnn::kBuiltinRecurrentCells) or a cell file in any form of
  // docs/formats.md. `cell` and `cell_family` hold the resolved cell (its JSON form), which
  // then wins, so a resumed run does not need the file.
  std::string arch = "DARTS_V2";
  std::string arch_file;
  std::string cell;
  std::string cell_family;
  // Size, windows, SGD, dropout and AR/TAR: DARTS rnn/train.py's defaults (hidden 850).
  LmSection lm;
  // Epochs, the test split's streams (DARTS: 1), and NT-ASGD: after an epoch whose validation
  // loss is worse than the best of all epochs but the last `nonmono`, ASGD (t0 0, lambd 0) takes
  // over; 0 = SGD only.
  int epochs = 50;  // DARTS trains 8000 (to convergence); 50 is a usable default run
  int64_t test_batch_size = 1;
  int nonmono = 5;

  uint64_t seed = 0;

  // The cell (from cell, else arch_file, else arch); throws naming the file or the built-ins.
  rnn::RecurrentArch recurrent_arch() const;
  // Reads the cell into cell/cell_family and resolves the corpus section.
  LmTrainConfig resolved() const;
  // Throws fusenas::Error with one clear sentence for the first bad value.
  void validate() const;
};

nlohmann::json to_json(const LmTrainConfig& c);
// Reads what to_json wrote; unknown keys are an error, missing keys keep their defaults.
LmTrainConfig lm_config_from_json(const nlohmann::json& j);

}  // namespace fusenas::nas
