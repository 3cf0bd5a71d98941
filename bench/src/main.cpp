// bench: times FuseNAS ops and search steps and, side by side in the same run, PyTorch peers.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <fstream>

#include "../../apps/common/app_support.h"
#include "../../apps/common/cli_checks.h"
#include "darts_suite.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/threads.h"
#include "gpu_ops.h"
#include "harness.h"
#include "lm_suite.h"
#include "op_cases.h"

int main(int argc, char** argv) {
  fusenas::apps::tune_process(argv, fusenas::apps::OmpWaiting::kBoundedSpin);
  using namespace fusenas;
  using namespace fusenas::bench;
  CLI::App app{"FuseNAS benchmarks: ops at DARTS shapes and search steps, against PyTorch peers"};
  std::string suite = "ops", device_name = "cpu", filter, json_path;
  int threads = 2;
  bool peers = true, quick = false;
  std::string cells = "both";
  Options options;
  app.add_option("--suite", suite,
                 "What to time: ops, darts (a search step) or lm (a language-model training step)")
      ->check(CLI::IsMember({"ops", "darts", "lm"}));
  app.add_option("--device", device_name, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  apps::add_version_flag(app, "bench");
  app.add_option("--threads", threads, "CPU threads for both FuseNAS and PyTorch")
      ->check(apps::int_range_check(1, 1 << 16));
  app.add_option("--filter", filter, "Only cases whose name matches this regex");
  app.add_option("--json", json_path, "Also write the results as JSON to this file");
  app.add_option("--iterations", options.iterations, "Timed repetitions per case (median reported)")
      ->check(apps::int_range_check(1, 1000000));
  app.add_option("--warmup", options.warmup, "Untimed repetitions before timing")
      ->check(apps::int_range_check(0, 1000000));
  app.add_flag("!--no-peers", peers, "Skip the PyTorch side-by-side run");
  app.add_flag("--quick", quick, "A handful of small cases (smoke test)");
  app.add_option("--cells", cells, "darts suite: time the fused cells, the composed ones, or both")
      ->check(CLI::IsMember({"fused", "composed", "both"}));
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return fmt::format("bench: {} (see --help)\n", apps::one_line(e.what()));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    // Fail before minutes of timing, not after them.
    if (!json_path.empty()) io::check_writable(json_path);
    const Device device = Device::parse(device_name);
    FUSENAS_CHECK(device.is_cpu() || cuda_available(),
                  "--device cuda: no CUDA device is available");
    set_num_threads(threads);
    if (suite == "darts")
      return run_darts_suite(device, threads, options, peers, quick, json_path, filter, cells);
    if (suite == "lm")
      return run_lm_suite(device, threads, options, peers, quick, json_path, filter);
    if (device.is_cuda() && suite == "ops") {
      // The GPU suite: CPU-validated, event-timed, rated against measured ceilings.
      GpuSuiteOptions gpu{filter, json_path, peers, quick};
      if (app.count("--warmup") > 0) gpu.warmup = options.warmup;
      if (app.count("--iterations") > 0) gpu.iterations = options.iterations;
      return run_gpu_op_suite(gpu);
    }
    std::vector<BenchCase> cases;
    for (const TimedOp& op : timed_ops(quick, filter)) cases.push_back(bench_case(op, device));
    fmt::print("FuseNAS bench: suite {} on {} with {} thread(s), {} cases\n", suite, device.str(),
               threads, cases.size());
    std::vector<Timing> ours;
    for (const auto& c : cases) {
      ours.push_back(time_it(c.prepare(), options));
      fmt::print(stderr, "  {:<46} {:>9.3f} ms\n", c.name, ours.back().median_ms);
    }
    nlohmann::json peer =
        peers ? run_peer("ops.py", cases, options, threads, device_name) : nlohmann::json::object();
    const bool have_peer = peer.contains("results") && peer["results"].size() == cases.size();
    fmt::print(
        "\n{:<46} {:>16} {:>12} {:>12} {:>9}\n", "case", "input (NHWC)", "fusenas ms",
        have_peer ? fmt::format("torch {} ms", peer["torch"].get<std::string>()) : "torch ms",
        "speedup");
    nlohmann::json out = {{"suite", suite},
                          {"device", device.str()},
                          {"threads", threads},
                          {"cases", nlohmann::json::array()}};
    for (size_t i = 0; i < cases.size(); ++i) {
      const double theirs = have_peer ? peer["results"][i]["median_ms"].get<double>() : 0.0;
      fmt::print("{:<46} {:>16} {:>12.3f} {:>12} {:>9}\n", cases[i].name, cases[i].shape,
                 ours[i].median_ms, have_peer ? fmt::format("{:.3f}", theirs) : "-",
                 have_peer ? fmt::format("{:.2f}x", theirs / ours[i].median_ms) : "-");
      out["cases"].push_back({{"name", cases[i].name},
                              {"shape", cases[i].shape},
                              {"fusenas_ms", ours[i].median_ms},
                              {"torch_ms", have_peer ? nlohmann::json(theirs) : nlohmann::json()}});
    }
    if (!json_path.empty()) io::write_file_atomic(json_path, out.dump(2) + "\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench: {}\n", apps::one_line(e.what()));
    return 1;
  }
  return 0;
}
