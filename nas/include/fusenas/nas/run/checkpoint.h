// Run checkpoints: tensors in checkpoint.safetensors plus everything else in checkpoint.json, both
// written atomically, so an interrupted run restarts exactly where it stopped.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <type_traits>

#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/engine/optim/lr_scheduler.h"
#include "fusenas/engine/optim/optimizer.h"

namespace fusenas::nas {

class CheckpointWriter {
 public:
  void add_tensor(const std::string& name, const Tensor& t);
  void add_module(const std::string& prefix, const nn::Module& module);
  void add_optimizer(const std::string& prefix, const optim::Optimizer& optimizer);
  nlohmann::json& state() { return state_; }
  // Writes <dir>/checkpoint.safetensors, then <dir>/checkpoint.json (which names the tensor
  // file's size, so a torn pair is detected on load).
  void save(const std::string& dir) const;

 private:
  std::map<std::string, Tensor> tensors_;
  nlohmann::json state_ = nlohmann::json::object();
};

class CheckpointReader {
 public:
  // Throws fusenas::Error naming the file when the checkpoint is missing, torn or corrupt.
  static CheckpointReader load(const std::string& dir);
  static bool exists(const std::string& dir);

  const nlohmann::json& state() const { return state_; }
  const std::string& dir() const { return dir_; }
  const Tensor& tensor(const std::string& name) const;
  // Copies tensor `name` into `into` (any device), which must have its shape; throws naming
  // both shapes otherwise.
  void copy_tensor_into(const std::string& name, Tensor& into) const;
  void load_module(const std::string& prefix, nn::Module& module) const;
  void load_optimizer(const std::string& prefix, optim::Optimizer& optimizer) const;

 private:
  std::string dir_;
  std::map<std::string, Tensor> tensors_;
  nlohmann::json state_;
};

// The "format" recorded in <dir>/checkpoint.json ("fusenas-darts", ...); empty when there is no
// readable checkpoint state. Reads only the small JSON file.
std::string checkpoint_format(const std::string& dir);

// Throws unless the checkpoint was written by `app` in `format` version `version`.
void check_checkpoint_format(const CheckpointReader& r, const std::string& format, int version,
                             const std::string& app);

// j[key] as T. Throws fusenas::Error naming the key when it is missing, of another JSON type, or
// (for integers) a fraction or out of T's range, where nlohmann would cast silently.
template <typename T>
T json_field(const nlohmann::json& j, const char* key) {
  FUSENAS_CHECK(j.is_object() && j.contains(key), "key '{}' is missing", key);
  const nlohmann::json& v = j[key];
  if constexpr (std::is_same_v<T, bool>) {
    FUSENAS_CHECK(v.is_boolean(), "key '{}' must be true or false, got {}", key, v.dump());
  } else if constexpr (std::is_integral_v<T>) {
    bool fits = false;
    if (v.is_number_unsigned()) {
      fits = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else if (v.is_number_integer()) {
      const int64_t x = v.get<int64_t>();
      fits = x >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
             (x < 0 ||
              static_cast<uint64_t>(x) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
    }
    FUSENAS_CHECK(fits, "key '{}' must be an integer in [{}, {}], got {}", key,
                  std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v.dump());
  } else if constexpr (std::is_floating_point_v<T>) {
    FUSENAS_CHECK(v.is_number(), "key '{}' must be a number, got {}", key, v.dump());
  } else if constexpr (std::is_same_v<T, std::string>) {
    FUSENAS_CHECK(v.is_string(), "key '{}' must be a string, got {}", key, v.dump());
  }
  try {
    return v.get<T>();
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("key '{}': {}", key, e.what());
  }
}

nlohmann::json to_json(const optim::SchedulerState& s);
optim::SchedulerState scheduler_state_from_json(const nlohmann::json& j);
nlohmann::json to_json(const GeneratorState& s);
GeneratorState generator_state_from_json(const nlohmann::json& j);
nlohmann::json to_json(const data::LoaderState& s);
data::LoaderState loader_state_from_json(const nlohmann::json& j);

}  // namespace fusenas::nas
