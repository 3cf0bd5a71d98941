// Bench harness: timing and the side-by-side PyTorch peer runner.
#include "harness.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fusenas::bench {

Timing time_it(const std::function<void()>& fn, const Options& options) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < options.warmup; ++i) fn();
  std::vector<double> samples;
  const auto start = clock::now();
  while (static_cast<int>(samples.size()) < options.iterations ||
         (std::chrono::duration<double>(clock::now() - start).count() < options.min_seconds &&
          samples.size() < 200)) {
    const auto t0 = clock::now();
    fn();
    samples.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples.front(), static_cast<int>(samples.size())};
}

std::string torch_python() {
  const char* env = std::getenv("FUSENAS_TORCH_PYTHON");
  return env != nullptr && *env != '\0' ? env : FUSENAS_TORCH_PYTHON;
}

nlohmann::json run_peer(const std::string& script, const std::vector<BenchCase>& cases,
                        const Options& options, int threads, const std::string& device) {
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("fusenas-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  nlohmann::json request = {{"warmup", options.warmup},
                            {"iterations", options.iterations},
                            {"min_seconds", options.min_seconds},
                            {"threads", threads},
                            {"device", device},
                            {"cases", nlohmann::json::array()}};
  for (const auto& c : cases) request["cases"].push_back(c.spec);
  const auto in = dir / "request.json", out = dir / "answer.json";
  std::ofstream(in) << request.dump();
  const std::string python = torch_python();
  // PyTorch runs with its own defaults: bench itself may have set OpenMP's waiting
  // (apps/common/app_support.h), which the peer must not inherit.
  const char* unset = std::getenv("FUSENAS_SET_OMP_WAITING") != nullptr
                          ? "env -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY -u FUSENAS_SET_OMP_WAITING "
                          : "";
  const std::string cmd = fmt::format("{}OMP_NUM_THREADS={} {} {}/{} {} {}", unset, threads, python,
                                      FUSENAS_BENCH_PEERS, script, in.string(), out.string());
  nlohmann::json answer = nlohmann::json::object();
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out);
    try {
      f >> answer;
    } catch (...) {
      answer = nlohmann::json::object();
    }
  } else {
    fmt::print(stderr, "bench: peer script {} failed (is PyTorch installed for {}?)\n", script,
               python);
  }
  std::filesystem::remove_all(dir);
  return answer;
}

}  // namespace fusenas::bench
