// What every run's configuration handling shares: the folder a new run starts in, reading a run's
// config.json back for --resume, strict JSON (unknown keys are an error), and the data side of the
// searches: dataset defaults, checks, and the search-train / search-val loaders.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_dir.h"

namespace fusenas::nas {

// `out_dir`, or runs/<kind>-<time> when it is empty; throws when the folder already holds a run.
std::string new_run_dir(const std::string& out_dir, const std::string& kind);
// <run_dir>/config.json, parsed; throws "cannot resume ..." when it is missing and names the file
// when it is not JSON.
nlohmann::json read_run_config(const std::string& run_dir);
// Throws "<what>: unknown key 'k'" for the first key of `j` that `known` lacks (and when `j` is
// not an object).
void check_known_keys(const nlohmann::json& j, const nlohmann::json& known,
                      const std::string& what);

// A config type with nlohmann to_json/from_json (missing keys keep their defaults) read strictly.
template <typename Config>
Config config_from_json_strict(const nlohmann::json& j, const std::string& what) {
  check_known_keys(j, nlohmann::json(Config{}), what);
  try {
    return j.get<Config>();
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: {}", what, e.what());
  }
}

// A config validated as given (so errors name the user's values), then with its defaults filled
// in (`resolved()`) and validated again.
template <typename Config>
Config checked_config(const Config& config) {
  config.validate();
  Config c = config.resolved();
  c.validate();
  return c;
}

// Starts a `Runner` (built from (config, options, run folder), with run()) in a new run folder:
// checks the config, empties the JSON-lines files a run that died before its first checkpoint
// may have left, and writes config.json.
template <typename Runner, typename Config, typename Options>
auto start_run(const Config& config, const Options& options, const std::string& kind,
               std::initializer_list<const char*> jsonl_files) {
  const Config c = checked_config(config);
  const std::string out = new_run_dir(options.out_dir, kind);
  Runner runner(c, options, out);
  const RunDir run(out);
  for (const char* f : jsonl_files) run.truncate_to(f, 0);
  run.write_json("config.json", to_json(c));
  return runner.run();
}

// Continues the run in `run_dir` with its saved config.json (read by `from_json`) and checkpoint.
template <typename Runner, typename Config, typename Options>
auto resume_run(const std::string& run_dir, const Options& options,
                Config (*from_json)(const nlohmann::json&)) {
  const Config c = checked_config(from_json(read_run_config(run_dir)));
  CheckpointReader::load(run_dir);  // fail on a bad checkpoint before loading any data
  Runner runner(c, options, run_dir);
  runner.restore();
  return runner.run();
}

// The checks every SGD-trained run shares; throws fusenas::Error naming the first bad value.
void validate_sgd(double lr, double lr_min, double momentum, double weight_decay, double grad_clip);

// The dataset's defaults for unset fields: its standard folder, crop padding (0 Fashion-MNIST,
// 4 CIFAR-10) and flips (off Fashion-MNIST, on CIFAR-10; -1 = unset).
void resolve_data_defaults(const std::string& dataset, std::string& data_dir, int64_t& crop_padding,
                           int& flip);

// The data fields of a search: which images, how they split, batches, order and augmentation.
struct SearchDataConfig {
  std::string dataset = "fashion-mnist";
  int64_t train_subset = 0;  // the first N training images before the split; 0 = all
  double train_portion = 0.5;
  int64_t batch_size = 64;
  uint64_t seed = 0;
  int64_t crop_padding = 0;
  int flip = 0;
  bool full_val_batches = false;  // val batches drop a short last batch (when one full fits)

  // Throws fusenas::Error with one clear sentence for the first bad value (-1 stands for the
  // dataset's default crop padding and flip).
  void validate() const;
};

struct SearchLoaders {
  std::unique_ptr<data::DataLoader> train;  // search-train, shuffled
  std::unique_ptr<data::DataLoader> val;    // search-val, shuffled with its own order, endless
  std::unique_ptr<data::DataLoader> eval;   // search-val in order, batches of 250
};
// Splits `data`'s first train_subset images by train_portion; throws when a side is empty.
SearchLoaders make_search_loaders(const data::Dataset& data, const SearchDataConfig& c);

}  // namespace fusenas::nas
