// DARTS's recurrent-cell search (nas_darts --task lm; DARTS rnn/train_search.py): the relaxed
// cell (DartsRecurrentSearchCell) in a word LM, first-order alpha steps on the validation split
// alternating with SGD steps on the weights, the genotype derived after every epoch.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/nas/rnn/recurrent_genotype.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/run/run_options.h"

namespace fusenas::nas {

// Everything that decides the search, saved as config.json. Defaults: rnn/train_search.py's.
struct LmSearchConfig {
  std::string task = "lm";
  std::string preset = "paper";  // "quick" or "paper": where the values below started from
  // The architect's data is the corpus's valid split (as DARTS: batchified at batch_size); the
  // epoch's validation perplexity is measured on the same split at eval_batch_size.
  CorpusSection data;
  // train_search.py's: hidden 300, batch 256, weight decay 5e-7, no word dropout.
  LmSection lm{.hidden = 300, .batch_size = 256, .weight_decay = 5e-7, .dropoute = 0};
  int steps = 8;  // the cell's nodes
  int epochs = 50;
  // The alphas' Adam: rnn/train_search.py's lr 3e-3 and decay 1e-3 with torch's default betas.
  AdamSection arch{.lr = 3e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 1e-3};
  int order = 1;  // 2: the unrolled architect (train_search.py --unrolled)
  uint64_t seed = 0;

  LmSearchConfig resolved() const;
  void validate() const;
};

// "paper" (the defaults above) or "quick" (a small LM on a cut of the corpus that finishes in
// minutes on two CPU cores).
LmSearchConfig lm_search_preset(const std::string& name);

nlohmann::json to_json(const LmSearchConfig& c);
LmSearchConfig lm_search_config_from_json(const nlohmann::json& j);

struct LmSearchResult {
  std::string run_dir;
  bool finished = false;
  int epochs_done = 0;
  rnn::RecurrentGenotype genotype;  // derived after the last finished epoch
  double valid_loss = 0;            // of the last finished epoch
};

LmSearchResult search_lm(const LmSearchConfig& config, const RunOptions& options);
LmSearchResult resume_lm_search(const std::string& run_dir, const RunOptions& options);

}  // namespace fusenas::nas
