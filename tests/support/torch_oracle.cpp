// Runs ops in PyTorch (Debian's python3-torch, CPU) on tensors we hand it, for parity tests.
#include "support/torch_oracle.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"

namespace fusenas::testing {
namespace {

std::filesystem::path scratch_dir() {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("fusenas-oracle-{}-{}", ::getpid(), counter++);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

std::vector<OracleResult> run_torch(const std::vector<OracleCase>& cases) {
  const auto dir = scratch_dir();
  std::vector<std::pair<std::string, Tensor>> tensors;
  nlohmann::json spec = nlohmann::json::array();
  for (size_t c = 0; c < cases.size(); ++c) {
    const auto& k = cases[c];
    spec.push_back({{"op", k.op},
                    {"params", k.params},
                    {"n_inputs", k.inputs.size()},
                    {"n_grad_outputs", k.grad_outputs.size()}});
    if (!k.grad_inputs.empty()) spec.back()["grad_inputs"] = k.grad_inputs;
    for (size_t i = 0; i < k.inputs.size(); ++i) {
      if (k.inputs[i].defined()) tensors.emplace_back(fmt::format("c{}.in{}", c, i), k.inputs[i]);
    }
    for (size_t i = 0; i < k.grad_outputs.size(); ++i) {
      tensors.emplace_back(fmt::format("c{}.gout{}", c, i), k.grad_outputs[i]);
    }
  }
  const auto in_path = (dir / "cases.safetensors").string();
  const auto out_path = (dir / "results.safetensors").string();
  const auto log_path = (dir / "oracle.log").string();
  io::save_safetensors(in_path, tensors, {{"cases", spec.dump()}});
  const std::string cmd =
      fmt::format("OMP_NUM_THREADS=1 {} {} {} {} > {} 2>&1", FUSENAS_TORCH_PYTHON,
                  FUSENAS_TORCH_ORACLE, in_path, out_path, log_path);
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::string log;
    try {
      log = io::read_file(log_path);
    } catch (...) {
    }
    FUSENAS_FAIL("torch oracle failed (exit {}): {}\n{}", rc, cmd, log);
  }
  auto results = io::load_safetensors(out_path);
  std::vector<OracleResult> out(cases.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    for (int i = 0;; ++i) {
      auto it = results.tensors.find(fmt::format("c{}.out{}", c, i));
      if (it == results.tensors.end()) break;
      out[c].outputs.push_back(it->second);
    }
    out[c].input_grads.resize(cases[c].inputs.size());
    for (size_t i = 0; i < cases[c].inputs.size(); ++i) {
      auto it = results.tensors.find(fmt::format("c{}.gin{}", c, i));
      if (it != results.tensors.end()) out[c].input_grads[i] = it->second;
    }
  }
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace fusenas::testing
