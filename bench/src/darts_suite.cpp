// DARTS search-step timings against PyTorch.
#include "darts_suite.h"

#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <regex>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/darts/search_config.h"
#include "fusenas/nas/darts/search_step.h"

namespace fusenas::bench {
namespace {

struct StepShape {
  int64_t batch, size, in_channels, channels;
  int cells, order;
};

std::string label(const StepShape& s) {
  return fmt::format("darts order {} ({}x{}x{}, b{}, C={}, {} cells)", s.order, s.in_channels,
                     s.size, s.size, s.batch, s.channels, s.cells);
}

// Everything one timed step needs, alive for as long as the timing runs.
struct StepState {
  nas::SgdSection weights = nas::DartsConfig{}.sgd;  // DARTS's weight SGD
  std::shared_ptr<nas::Supernet> net;
  std::unique_ptr<optim::SGD> sgd;
  std::unique_ptr<nas::Architect> architect;
  std::vector<Tensor> xt, yt, xv, yv;  // rotated so no two consecutive steps share a batch
  size_t next = 0;
};

std::shared_ptr<StepState> make_state(const StepShape& s, Device device, bool fused) {
  auto st = std::make_shared<StepState>();
  nas::SearchSpace space;
  space.channels = s.channels;
  space.cells = s.cells;
  space.in_channels = s.in_channels;
  space.image_size = s.size;
  Generator gen(0);
  st->net = std::make_shared<nas::Supernet>(space, gen);
  st->net->set_fused(fused);
  if (device.is_cuda()) st->net->to_device(device);
  st->sgd = std::make_unique<optim::SGD>(st->net->parameters(), st->weights.lr,
                                         st->weights.momentum, st->weights.weight_decay);
  nas::ArchitectConfig ac;
  ac.order = s.order;
  st->architect = std::make_unique<nas::Architect>(*st->net, *st->sgd, ac);
  for (int i = 0; i < 2; ++i) {
    st->xt.push_back(normal({s.batch, s.size, s.size, s.in_channels}, 0, 1, gen).to(device));
    st->xv.push_back(normal({s.batch, s.size, s.size, s.in_channels}, 0, 1, gen).to(device));
    st->yt.push_back(randint({s.batch}, 0, 10, gen).to(device));
    st->yv.push_back(randint({s.batch}, 0, 10, gen).to(device));
  }
  return st;
}

// Printed under the table and stored in the JSON beside the modelled figures.
constexpr const char* kModelNote =
    "model eager / model graph: a model of an H100, not a measurement: over one step's launches, "
    "the sum of max(bytes / 3.35 TB/s, FLOPs / 60 TFLOP/s) per launch, plus 2 us per launch "
    "(eager) or 0.5 us per node (replayed CUDA graph); bytes and FLOPs as each launch site "
    "states them (FUSENAS_LAUNCH_LOG writes them per launch)";

// A side's modelled H100 figures (a model, not a measurement) for the JSON output.
nlohmann::json model_json(const cuda::LaunchTotals& t) {
  return {{"launches", t.launches},
          {"bytes", t.bytes},
          {"flops", t.flops},
          {"device_ms", 1e3 * t.device_seconds},
          {"h100_eager_ms", t.eager_ms()},
          {"h100_graph_ms", t.graph_ms()}};
}

void step(StepState& st) {
  const size_t i = st.next++ % st.xt.size();
  // The loss read-back at the end of the step synchronises the device, so host time is step time.
  nas::darts_search_step(*st.net, *st.architect, *st.sgd, st.weights.grad_clip, st.xt[i], st.yt[i],
                         st.xv[i], st.yv[i]);
}

}  // namespace

int run_darts_suite(Device device, int threads, const Options& options, bool peers, bool quick,
                    const std::string& json_path, const std::string& filter,
                    const std::string& cells) {
  std::vector<StepShape> shapes;
  if (quick) {
    shapes = {{4, 8, 3, 8, 5, 1}, {4, 8, 3, 8, 5, 2}};
  } else if (device.is_cuda()) {
    shapes = {{64, 32, 3, 16, 8, 1}, {64, 32, 3, 16, 8, 2}};
  } else {
    shapes = {{32, 28, 1, 8, 5, 1}, {32, 28, 1, 8, 5, 2}};
  }
  Options opt = options;
  // A step is a whole forward/backward of the supernet (seconds on a CPU): a few suffice.
  opt.warmup = std::min(opt.warmup, 1);
  opt.iterations = std::min(opt.iterations, 3);
  opt.min_seconds = 0;
  fmt::print("FuseNAS bench: suite darts on {} with {} thread(s)\n", device.str(), threads);
  // Per case and cell implementation (fused, composed): time, peak MB, launch sites, and the
  // launches' modelled H100 time (a model from their bytes and FLOPs, not a measurement).
  struct Side {
    Timing time;
    double peak_mb = 0, launches = 0;
    cuda::LaunchTotals model;
  };
  std::vector<BenchCase> cases;
  std::vector<Side> fused, composed;
  for (const auto& s : shapes) {
    if (!filter.empty() && !std::regex_search(label(s), std::regex(filter))) continue;
    cases.push_back({label(s),
                     fmt::format("{}x{}x{}x{}", s.batch, s.size, s.size, s.in_channels),
                     {{"batch", s.batch},
                      {"size", s.size},
                      {"in_channels", s.in_channels},
                      {"channels", s.channels},
                      {"cells", s.cells},
                      {"order", s.order}},
                     {}});
    for (const bool fuse : {true, false}) {
      if (cells != "both" && (cells == "fused") != fuse) {
        (fuse ? fused : composed).push_back({});
        continue;
      }
      auto st = make_state(s, device, fuse);
      step(*st);  // first step outside the peak window: allocator warm-up
      Side side;
      if (device.is_cuda()) {
        cuda::synchronize();
        cuda::reset_peak_memory();
        cuda::reset_launch_count();
        cuda::reset_launch_totals();
      }
      step(*st);
      if (device.is_cuda()) {
        side.peak_mb = cuda::memory_stats().peak_bytes / 1048576.0;
        side.launches = static_cast<double>(cuda::launch_count());
        side.model = cuda::launch_totals();
      }
      side.time = time_it([st] { step(*st); }, opt);
      fmt::print(stderr, "  {:<44} {:>9} {:>9.1f} ms\n", cases.back().name,
                 fuse ? "fused" : "composed", side.time.median_ms);
      (fuse ? fused : composed).push_back(side);
    }
  }
  nlohmann::json peer = peers ? run_peer("darts_step.py", cases, opt, threads, device.str())
                              : nlohmann::json::object();
  const bool have_peer = peer.contains("results") && peer["results"].size() == cases.size();
  fmt::print("\n{:<44} {:>10} {:>11} {:>12} {:>9} {:>9} {:>9} {:>11} {:>10} {:>13} {:>13}\n",
             "case", "fused ms", "composed ms",
             have_peer ? fmt::format("torch {} ms", peer["torch"].get<std::string>()) : "torch ms",
             "c/fused", "t/fused", "peak MB", "launches", "torch lnch", "model eager*",
             "model graph*");
  nlohmann::json out = {{"suite", "darts"},
                        {"device", device.str()},
                        {"threads", threads},
                        {"model_note", kModelNote},
                        {"cases", nlohmann::json::array()}};
  for (size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json theirs = have_peer ? peer["results"][i] : nlohmann::json::object();
    const double t = theirs.value("median_ms", 0.0);
    const double f = fused[i].time.median_ms, c = composed[i].time.median_ms;
    const auto ms = [](double v) { return v > 0 ? fmt::format("{:.1f}", v) : std::string("-"); };
    // Modelled H100 ms, fused/composed (a side that did not run shows "-").
    const auto model = [&](double (cuda::LaunchTotals::*pick)() const) {
      const auto one = [&](const Side& side) {
        return side.model.launches > 0 ? fmt::format("{:.2f}", (side.model.*pick)()) : "-";
      };
      return device.is_cuda() ? one(fused[i]) + "/" + one(composed[i]) : std::string("-");
    };
    fmt::print(
        "{:<44} {:>10} {:>11} {:>12} {:>9} {:>9} {:>9} {:>11} {:>10} {:>13} {:>13}\n",
        cases[i].name, ms(f), ms(c), have_peer ? fmt::format("{:.1f}", t) : "-",
        f > 0 && c > 0 ? fmt::format("{:.2f}x", c / f) : "-",
        have_peer && f > 0 ? fmt::format("{:.2f}x", t / f) : "-",
        device.is_cuda() ? fmt::format("{:.0f}/{:.0f}", fused[i].peak_mb, composed[i].peak_mb)
                         : "-",
        device.is_cuda() ? fmt::format("{:.0f}/{:.0f}", fused[i].launches, composed[i].launches)
                         : "-",
        theirs.contains("launches") ? fmt::format("{}", theirs["launches"].dump()) : "-",
        model(&cuda::LaunchTotals::eager_ms), model(&cuda::LaunchTotals::graph_ms));
    out["cases"].push_back({{"name", cases[i].name},
                            {"fusenas_ms", f},
                            {"fusenas_peak_mb", fused[i].peak_mb},
                            {"fusenas_launches", fused[i].launches},
                            {"composed_ms", c},
                            {"composed_peak_mb", composed[i].peak_mb},
                            {"composed_launches", composed[i].launches},
                            {"fusenas_model", model_json(fused[i].model)},
                            {"composed_model", model_json(composed[i].model)},
                            {"torch", theirs}});
  }
  if (device.is_cuda()) {
    fmt::print("\n* {}\n", kModelNote);
    fmt::print("  fused/composed; launches and peak MB counted over the same step.\n");
  }
  if (!json_path.empty()) io::write_file_atomic(json_path, out.dump(2) + "\n");
  return 0;
}

}  // namespace fusenas::bench
