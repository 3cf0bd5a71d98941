// What every run's configuration handling shares: the folder a new run starts in, reading a run's
// config.json back for --resume, strict JSON (unknown keys are an error), and the data side of the
// searches: the search-train / search-val loaders.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/run/new_run_dir.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_lock.h"

namespace fusenas::nas {

// <run_dir>/config.json, parsed; throws "cannot resume ..." when it is missing, names the file
// when it is not JSON, and names the app when the folder is another app's run (its checkpoint's
// format is not fusenas-<kind>).
nlohmann::json read_run_config(const std::string& run_dir, const std::string& kind);
// Throws "<what>: unknown key 'k'" for the first key of `j` that `known` lacks (and when `j` is
// not an object).
void check_known_keys(const nlohmann::json& j, const nlohmann::json& known,
                      const std::string& what);

// Throws "<what>: key 'k' ..." for the first key whose value `read` (the config read back and
// written again) does not hold as given: 1.9 or true in an integer field, 4294967296 in an int.
void check_values_kept(const nlohmann::json& given, const nlohmann::json& read,
                       const std::string& what);

// A config's flat config.json object, from its for_each_key(config, f) (the sections' keys and its
// own).
template <typename Config>
nlohmann::json keys_to_json(const Config& c) {
  nlohmann::json j = nlohmann::json::object();
  for_each_key(c, [&](const std::string& key, const auto& field) { j[key] = field; });
  return j;
}

// Reads the keys `j` has into `c`; the others keep c's values. A value of the wrong type throws
// nlohmann's error (config_from_json_strict names the key).
template <typename Config>
void keys_from_json(const nlohmann::json& j, Config& c) {
  for_each_key(c, [&](const std::string& key, auto& field) {
    const auto it = j.find(key);
    if (it != j.end()) field = it->template get<std::remove_reference_t<decltype(field)>>();
  });
}

// A config with for_each_key (missing keys keep their defaults) read strictly: unknown keys,
// values of the wrong type and values the field cannot hold are errors naming the key.
template <typename Config>
Config config_from_json_strict(const nlohmann::json& j, const std::string& what) {
  const nlohmann::json defaults = keys_to_json(Config{});
  check_known_keys(j, defaults, what);
  Config c;
  try {
    keys_from_json(j, c);
  } catch (const nlohmann::json::exception& e) {
    // Name the key: the first one that fails on its own.
    for (const auto& [key, value] : j.items()) {
      try {
        Config alone;
        keys_from_json(nlohmann::json{{key, value}}, alone);
      } catch (const nlohmann::json::exception&) {
        FUSENAS_FAIL("{}: key '{}' is {} {}, but must be a {}", what, key, value.type_name(),
                     value.dump(), defaults[key].type_name());
      }
    }
    FUSENAS_FAIL("{}: {}", what, e.what());
  }
  check_values_kept(j, keys_to_json(c), what);
  return c;
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

// Appends a line to the run's log (train.log or search.log) without echoing it: the invocation
// at a start or resume, and "failed: <message>" when an error ends the run, so the folder tells
// what ended it (a divergence, say) after the process is gone. Never throws.
void append_to_run_log(const std::string& run_dir, const std::string& kind,
                       const std::string& text);

// Starts a `Runner` (built from (config, options, run folder), with run()) in a new run folder
// (NewRunDir: claimed and locked for the whole run), and writes config.json. A start that fails
// before the run's first checkpoint leaves no folder behind.
template <typename Runner, typename Config, typename Options>
auto start_run(const Config& config, const Options& options, const std::string& kind) {
  const Config c = checked_config(config);
  NewRunDir out(options.out_dir, kind);
  try {
    Runner runner(c, options, out.path());
    RunDir(out.path()).write_json("config.json", to_json(c));
    if (!options.invocation.empty()) append_to_run_log(out.path(), kind, options.invocation);
    return runner.run();
  } catch (const std::exception& e) {
    if (!CheckpointReader::exists(out.path())) {
      out.discard();
    } else {
      append_to_run_log(out.path(), kind, std::string("failed: ") + e.what());
    }
    throw;
  }
}

// Continues the run in `run_dir` (locked for the whole run) with its saved config.json (read by
// `from_json`) and checkpoint.
template <typename Runner, typename Config, typename Options>
auto resume_run(const std::string& run_dir, const Options& options, const std::string& kind,
                Config (*from_json)(const nlohmann::json&)) {
  const nlohmann::json saved = read_run_config(run_dir, kind);
  Config c;
  try {
    c = checked_config(from_json(saved));
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/config.json: {}", run_dir, e.what());
  }
  const RunLock lock(run_dir);
  CheckpointReader::load(run_dir);  // fail on a bad checkpoint before loading any data
  try {
    Runner runner(c, options, run_dir);
    if (!options.invocation.empty()) append_to_run_log(run_dir, kind, options.invocation);
    runner.restore();
    return runner.run();
  } catch (const std::exception& e) {
    append_to_run_log(run_dir, kind, std::string("failed: ") + e.what());
    throw;
  }
}

// The loaders of a search: which images and how they split (data, resolved, with its
// train_portion), batches, order and augmentation.
struct SearchDataConfig {
  DataSection data;
  int64_t batch_size = 64;
  uint64_t seed = 0;
  bool full_val_batches = false;  // val batches drop a short last batch (when one full fits)
  // Search-val batches get the training augmentation (DARTS feeds both queues the same
  // transform); ENAS's reward batches do not.
  bool augment_val = true;
};

struct SearchLoaders {
  std::unique_ptr<data::DataLoader> train;  // search-train, shuffled
  std::unique_ptr<data::DataLoader> val;    // search-val, shuffled with its own order, endless
  std::unique_ptr<data::DataLoader> eval;   // search-val in order, batches of 250
};
// Splits `data`'s first train_subset images by train_portion; throws when a side is empty.
SearchLoaders make_search_loaders(const data::Dataset& data, const SearchDataConfig& c);

}  // namespace fusenas::nas
