// Fuzz target: a run folder's checkpoint (CheckpointReader::load and what a restore reads first).
// Input: checkpoint.json, a NUL byte, then the tensor file; "@SIZE@" in the JSON becomes the
// tensor file's size, so mutations of the tensors get past the torn-pair check.
#include <filesystem>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fuzz_files.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {
namespace {

constexpr const char* kTensorFile = "checkpoint.0.safetensors";

fusenas::Tensor param() {
  return fusenas::zeros({2, 3}, fusenas::TensorOptions{}.with_requires_grad());
}

}  // namespace

std::vector<std::string> seeds() {
  const std::string dir = fresh_dir("seed");
  nas::CheckpointWriter w;
  w.add_tensor("model.w", from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  optim::SGD sgd({param()}, 0.1, 0.9);
  w.add_optimizer("optimizer", sgd);
  w.state()["format"] = "fusenas-fuzz";
  w.state()["version"] = 1;
  w.state()["loader"] = nas::to_json(data::LoaderState{});
  w.state()["scheduler"] = nas::to_json(optim::SchedulerState{});
  w.state()["generator"] = nas::to_json(GeneratorState{});
  w.save(dir);
  std::string json = read_bytes(dir + "/checkpoint.json");
  const std::string tensors = read_bytes(dir + "/" + kTensorFile);
  const std::string exact = json + '\0' + tensors;
  const std::string bytes = "\"tensor_file_bytes\": ";
  const size_t at = json.find(bytes);
  if (at != std::string::npos) {
    const size_t end = json.find_first_of(",\n}", at + bytes.size());
    json.replace(at + bytes.size(), end - at - bytes.size(), "@SIZE@");
  }
  return {exact, json + '\0' + tensors};
}

std::vector<std::string> dictionary() {
  return {"\"tensor_file\"",
          "\"tensor_file_bytes\"",
          "\"serial\"",
          "\"optimizers\"",
          "\"format\"",
          "\"version\"",
          "@SIZE@",
          "\"loader\"",
          "\"scheduler\"",
          "\"generator\"",
          "null",
          "[]",
          "{}",
          "\"../checkpoint.json\"",
          "\"dtype\"",
          "\"shape\"",
          "\"data_offsets\"",
          std::string(1, '\0')};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  const std::string_view input = as_view(data, size);
  const size_t nul = input.find('\0');
  std::string json(input.substr(0, nul));
  const std::string_view tensors =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  for (size_t at; (at = json.find("@SIZE@")) != std::string::npos;)
    json.replace(at, 6, std::to_string(tensors.size()));
  const std::string dir = fresh_dir("checkpoint");
  write_bytes(dir + "/checkpoint.json", json);
  write_bytes(dir + "/" + kTensorFile, tensors);
  return run_parser([&] {
    const fusenas::nas::CheckpointReader r = fusenas::nas::CheckpointReader::load(dir);
    fusenas::nas::check_checkpoint_format(r, "fusenas-fuzz", 1, "fuzz");
    r.tensor("model.w");
    fusenas::optim::SGD sgd({param()}, 0.1, 0.9);
    r.load_optimizer("optimizer", sgd);
    // Restores read these inside a try that turns nlohmann's exceptions into one line.
    try {
      const auto& s = r.state();
      fusenas::nas::loader_state_from_json(s.at("loader"));
      fusenas::nas::scheduler_state_from_json(s.at("scheduler"));
      fusenas::nas::generator_state_from_json(s.at("generator"));
    } catch (const nlohmann::json::exception& e) {
      note(e.what());
    }
  });
}
