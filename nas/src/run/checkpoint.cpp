// Run checkpoints: tensors in checkpoint.safetensors plus everything else in checkpoint.json.
#include "fusenas/nas/run/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"

namespace fusenas::nas {
namespace {
const char* kStateFile = "checkpoint.json";
}  // namespace

void CheckpointWriter::add_tensor(const std::string& name, const Tensor& t) {
  FUSENAS_CHECK(!tensors_.count(name), "checkpoint: tensor '{}' added twice", name);
  tensors_[name] = t;
}

void CheckpointWriter::add_module(const std::string& prefix, const nn::Module& module) {
  for (const auto& [name, t] : module.state_dict()) add_tensor(prefix + "." + name, t);
}

void CheckpointWriter::add_optimizer(const std::string& prefix, const optim::Optimizer& optimizer) {
  const auto s = optimizer.state_dict();
  for (const auto& [name, t] : s.tensors) add_tensor(prefix + "." + name, t);
  nlohmann::json scalars = nlohmann::json::object();
  for (const auto& [name, v] : s.scalars) scalars[name] = v;
  state_["optimizers"][prefix] = scalars;
}

void CheckpointWriter::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  // A fresh tensor file per save: checkpoint.json is renamed into place last and names it, so a
  // crash at any point leaves the previous pair intact.
  uint64_t serial = 0;
  if (CheckpointReader::exists(dir)) {
    try {
      serial = nlohmann::json::parse(io::read_file((fs::path(dir) / kStateFile).string()))
                   .value("serial", 0) +
               1;
    } catch (const nlohmann::json::exception&) {
    }
  }
  const std::string tensor_name = fmt::format("checkpoint.{}.safetensors", serial);
  const std::string tensor_path = (fs::path(dir) / tensor_name).string();
  io::save_safetensors(tensor_path, {tensors_.begin(), tensors_.end()});
  nlohmann::json state = state_;
  state["serial"] = serial;
  state["tensor_file"] = tensor_name;
  state["tensor_file_bytes"] = fs::file_size(tensor_path);
  io::write_file_atomic((fs::path(dir) / kStateFile).string(), state.dump(1));
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != tensor_name && name.rfind("checkpoint.", 0) == 0 &&
        entry.path().extension() == ".safetensors") {
      std::error_code ignored;
      fs::remove(entry.path(), ignored);
    }
  }
}

bool CheckpointReader::exists(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(dir) / kStateFile, ec);
}

CheckpointReader CheckpointReader::load(const std::string& dir) {
  CheckpointReader r;
  r.dir_ = dir;
  const auto state_path = (std::filesystem::path(dir) / kStateFile).string();
  FUSENAS_CHECK(std::filesystem::exists(state_path), "no checkpoint in {} ({} is missing)", dir,
                kStateFile);
  try {
    r.state_ = nlohmann::json::parse(io::read_file(state_path));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: unreadable checkpoint state: {}", state_path, e.what());
  }
  FUSENAS_CHECK(r.state_.is_object() && r.state_.contains("tensor_file_bytes") &&
                    r.state_.contains("tensor_file"),
                "{}: not a FuseNAS checkpoint", state_path);
  std::string tensor_file;
  uint64_t expected = 0;
  try {
    tensor_file = json_field<std::string>(r.state_, "tensor_file");
    expected = json_field<uint64_t>(r.state_, "tensor_file_bytes");
  } catch (const Error& e) {
    FUSENAS_FAIL("{}: {}", state_path, e.what());
  }
  // The tensor file sits beside checkpoint.json; a path would let an edited file point anywhere.
  FUSENAS_CHECK(!tensor_file.empty() && tensor_file.find('/') == std::string::npos &&
                    tensor_file != "." && tensor_file != "..",
                "{}: tensor_file must be a file name in the run folder, got '{}'", state_path,
                tensor_file);
  const auto tensor_path = (std::filesystem::path(dir) / tensor_file).string();
  // error_code forms: an edited name (too long, say) must give this message, not a
  // filesystem_error.
  std::error_code ec;
  const auto actual = std::filesystem::file_size(tensor_path, ec);
  FUSENAS_CHECK(!ec, "{}: {}, but {} refers to it", tensor_path,
                ec == std::errc::no_such_file_or_directory ? "missing" : ec.message(), state_path);
  FUSENAS_CHECK(actual == expected,
                "{}: {} bytes, but the checkpoint expects {} (torn or foreign file)", tensor_path,
                actual, expected);
  r.tensors_ = io::load_safetensors(tensor_path).tensors;
  return r;
}

const Tensor& CheckpointReader::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  FUSENAS_CHECK(it != tensors_.end(), "checkpoint in {} has no tensor '{}'", dir_, name);
  return it->second;
}

void CheckpointReader::copy_tensor_into(const std::string& name, Tensor& into) const {
  const Tensor& saved = tensor(name);
  FUSENAS_CHECK(saved.shape() == into.shape(), "checkpoint in {}: {} has shape {}, expected {}",
                dir_, name, shape_str(saved.shape()), shape_str(into.shape()));
  NoGradGuard no_grad;
  into.copy_(saved);
}

void CheckpointReader::load_module(const std::string& prefix, nn::Module& module) const {
  nn::StateDict sd;
  const std::string p = prefix + ".";
  for (const auto& [name, t] : tensors_) {
    if (name.rfind(p, 0) == 0) sd[name.substr(p.size())] = t;
  }
  try {
    module.load_state_dict(sd, true);
  } catch (const Error& e) {
    FUSENAS_FAIL("checkpoint in {} does not fit the model '{}': {}", dir_, prefix, e.what());
  }
}

void CheckpointReader::load_optimizer(const std::string& prefix,
                                      optim::Optimizer& optimizer) const {
  optim::OptimizerState s;
  const std::string p = prefix + ".";
  for (const auto& [name, t] : tensors_) {
    if (name.rfind(p, 0) == 0) s.tensors[name.substr(p.size())] = t;
  }
  FUSENAS_CHECK(state_.contains("optimizers") && state_["optimizers"].contains(prefix),
                "checkpoint in {} has no state for optimizer '{}'", dir_, prefix);
  for (const auto& [name, v] : state_["optimizers"][prefix].items()) {
    FUSENAS_CHECK(v.is_number(), "{}/checkpoint.json: optimizer '{}' scalar '{}' must be a number",
                  dir_, prefix, name);
    s.scalars[name] = v.get<double>();
  }
  optimizer.load_state_dict(s);
}

nlohmann::json to_json(const GeneratorState& s) {
  return {{"seed", s.seed}, {"offset", s.offset}, {"buffered", s.buffered}};
}

std::string checkpoint_format(const std::string& dir) {
  try {
    const auto state =
        nlohmann::json::parse(io::read_file((std::filesystem::path(dir) / kStateFile).string()));
    if (state.is_object() && state.contains("format") && state["format"].is_string())
      return state["format"].get<std::string>();
  } catch (const std::exception&) {
  }
  return "";
}

void check_checkpoint_format(const CheckpointReader& r, const std::string& format, int version,
                             const std::string& app) {
  const nlohmann::json& s = r.state();
  const bool same = s.contains("format") && s["format"].is_string() && s["format"] == format &&
                    s.contains("version") && s["version"].is_number_integer() &&
                    s["version"] == version;
  FUSENAS_CHECK(same, "checkpoint in {} is not a {} checkpoint (format {} version {})", r.dir(),
                app, format, version);
}

nlohmann::json to_json(const optim::SchedulerState& s) {
  return {{"last_epoch", s.last_epoch}, {"base_lr", s.base_lr}};
}

optim::SchedulerState scheduler_state_from_json(const nlohmann::json& j) {
  return {json_field<int64_t>(j, "last_epoch"), json_field<double>(j, "base_lr")};
}

GeneratorState generator_state_from_json(const nlohmann::json& j) {
  return {json_field<uint64_t>(j, "seed"), json_field<uint64_t>(j, "offset"),
          json_field<uint32_t>(j, "buffered")};
}

nlohmann::json to_json(const data::LoaderState& s) {
  return {{"epoch", s.epoch},
          {"batch", s.batch},
          {"seed", s.seed},
          {"num_samples", s.num_samples},
          {"batch_size", s.batch_size}};
}

data::LoaderState loader_state_from_json(const nlohmann::json& j) {
  data::LoaderState s;
  s.epoch = json_field<int64_t>(j, "epoch");
  s.batch = json_field<int64_t>(j, "batch");
  s.seed = json_field<uint64_t>(j, "seed");
  s.num_samples = json_field<int64_t>(j, "num_samples");
  s.batch_size = json_field<int64_t>(j, "batch_size");
  return s;
}

}  // namespace fusenas::nas
