// Run set-up shared by the training and search runs.
#include "fusenas/nas/run/setup.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/checkpoint.h"

namespace fusenas::nas {

Device pick_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? Device::cuda() : Device::cpu();
  Device d;
  try {
    d = Device::parse(name);
  } catch (const Error&) {
    FUSENAS_FAIL("unknown device '{}' (use cpu, cuda, cuda:N or auto)", name);
  }
  FUSENAS_CHECK(d.is_cpu() || cuda_available(), "device {}: {}", name,
                built_with_cuda() ? "no CUDA device is visible" : "this build has no CUDA backend");
  return d;
}

void use_threads(int threads) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  set_num_threads(threads > 0 ? threads : static_cast<int>(cores));
}

data::Dataset load_dataset(const std::string& dataset, const std::string& dir, bool train) {
  FUSENAS_CHECK(std::filesystem::is_directory(dir), "{} dataset folder {} does not exist", dataset,
                dir);
  return dataset == "fashion-mnist" ? data::load_fashion_mnist(dir, train)
                                    : data::load_cifar10(dir, train);
}

std::string default_run_dir(const std::string& kind) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("runs/{}-{:%Y%m%d-%H%M%S}", kind, fmt::localtime(now));
}

void check_new_run_dir(const std::string& dir) {
  FUSENAS_CHECK(!CheckpointReader::exists(dir),
                "run folder {} already holds a run (continue it with --resume {} or choose "
                "another --out)",
                dir, dir);
}

nlohmann::json read_run_config(const std::string& run_dir) {
  const std::string path = (std::filesystem::path(run_dir) / "config.json").string();
  FUSENAS_CHECK(std::filesystem::exists(path), "cannot resume {}: {} is missing", run_dir, path);
  try {
    return nlohmann::json::parse(io::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: unreadable config: {}", path, e.what());
  }
}

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  const auto pred = argmax_last(logits.detach()).to(Device::cpu()).to_vector<int64_t>();
  const int64_t* y = labels.data<int64_t>();
  int64_t n = 0;
  for (size_t i = 0; i < pred.size(); ++i) n += pred[i] == y[i];
  return n;
}

}  // namespace fusenas::nas
