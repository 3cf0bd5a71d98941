// Run checkpoints: tensors in checkpoint.safetensors plus everything else in checkpoint.json, both
// written atomically, so an interrupted run restarts exactly where it stopped.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "fusenas/engine/data/loader.h"
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
  void load_module(const std::string& prefix, nn::Module& module) const;
  void load_optimizer(const std::string& prefix, optim::Optimizer& optimizer) const;

 private:
  std::string dir_;
  std::map<std::string, Tensor> tensors_;
  nlohmann::json state_;
};

// Throws unless the checkpoint was written by `app` in `format` version `version`.
void check_checkpoint_format(const CheckpointReader& r, const std::string& format, int version,
                             const std::string& app);

nlohmann::json to_json(const optim::SchedulerState& s);
optim::SchedulerState scheduler_state_from_json(const nlohmann::json& j);
nlohmann::json to_json(const GeneratorState& s);
GeneratorState generator_state_from_json(const nlohmann::json& j);
nlohmann::json to_json(const data::LoaderState& s);
data::LoaderState loader_state_from_json(const nlohmann::json& j);

}  // namespace fusenas::nas
