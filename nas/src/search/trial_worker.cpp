// Worker ranks of a search under mpirun: the setup, job and report messages, and the loop that
// trains each job with the same network, data split and schedule as a single-process search.
#include "trial_worker.h"

#include <fmt/format.h>

#include <sched.h>

#include <algorithm>
#include <thread>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/run/stop_signal.h"
#include "fusenas/nas/run/wall_clock.h"
#include "fusenas/nas/space/make_space.h"

namespace fusenas::nas {
namespace {

nlohmann::json outcome_json(const TrialOutcome& o) {
  return {{"finished", o.finished},   {"val_acc", o.val_acc},       {"val_loss", o.val_loss},
          {"train_acc", o.train_acc}, {"train_loss", o.train_loss}, {"curve", o.curve}};
}

// The device of a worker: with CUDA, the GPU of its index among the machine's workers (one each
// where there are as many GPUs; shared round-robin where there are fewer).
Device worker_device(const std::string& requested, const Cluster& cluster) {
  const Device d = pick_device(requested);
  if (d.is_cpu()) return d;
  const int gpus = cuda::device_count();
  // Ranks on a machine are numbered in world order, so rank 0 (if here) is local rank 0.
  const int worker = cluster.local_rank() - (cluster.local_size() - cluster.local_workers());
  return pick_device(fmt::format("cuda:{}", worker % std::max(gpus, 1)));
}

// The machine's cores shared among the worker ranks on it, so that N workers on 2 cores do not
// each start 2 threads and thrash.
int worker_threads(const BlackBoxOptions& options, const Cluster& cluster) {
  if (options.threads > 0) return options.threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int shared = std::max(1, cores / std::max(1, cluster.local_workers()));
  // mpirun binds each rank to one core when it starts 2 or fewer (without --bind-to none): more
  // threads than the rank's cores would only take turns on them.
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) return std::min(shared, CPU_COUNT(&mask));
  return shared;
}

}  // namespace

nlohmann::json trial_job(int64_t trial_id, const space::Point& arch,
                         const space::Hyperparameters& hp, int epochs) {
  return {{"type", "job"},
          {"trial", trial_id},
          {"arch", arch},
          {"hp",
           {{"batch_size", hp.batch_size},
            {"lr", hp.lr},
            {"momentum", hp.momentum},
            {"weight_decay", hp.weight_decay}}},
          {"epochs", epochs}};
}

nlohmann::json to_json(const TrialReport& r) {
  return {{"type", "report"},
          {"trial", r.trial},
          {"outcome", outcome_json(r.outcome)},
          {"params", r.params},
          {"wall_seconds", r.wall_seconds},
          {"failure", r.failure}};
}

TrialReport trial_report_from_json(const nlohmann::json& j) {
  try {
    TrialReport r;
    r.trial = j.at("trial").get<int64_t>();
    const nlohmann::json& o = j.at("outcome");
    r.outcome.finished = o.at("finished").get<bool>();
    r.outcome.val_acc = o.at("val_acc").get<double>();
    r.outcome.val_loss = o.at("val_loss").get<double>();
    r.outcome.train_acc = o.at("train_acc").get<double>();
    r.outcome.train_loss = o.at("train_loss").get<double>();
    r.outcome.curve = o.at("curve").get<std::vector<nlohmann::json>>();
    r.params = j.at("params").get<int64_t>();
    r.wall_seconds = j.at("wall_seconds").get<double>();
    r.failure = j.at("failure").get<std::string>();
    return r;
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("a worker's trial report is malformed ({}): {}", e.what(), j.dump());
  }
}

nlohmann::json worker_setup(const std::string& run_dir, const BlackBoxConfig& config) {
  return {{"type", "setup"}, {"run_dir", run_dir}, {"config", to_json(config)}};
}

void serve_trials(const Cluster& cluster, const BlackBoxOptions& options) {
  const nlohmann::json setup = cluster.receive(0);
  if (setup.value("type", "") == "quit") return;  // rank 0 failed before the search began
  FUSENAS_CHECK(setup.value("type", "") == "setup", "worker {}: expected the setup message, got {}",
                cluster.rank(), setup.dump());
  const BlackBoxConfig config = blackbox_config_from_json(setup.at("config"));
  const std::string run_path = setup.at("run_dir").get<std::string>();
  const Device device = worker_device(options.device, cluster);
  use_threads(worker_threads(options, cluster));
  const data::Dataset data = load_dataset(config.data.dataset, config.data.data_dir, true);
  const RunDir run(run_path);
  RunLog log(run, /*echo=*/false, fmt::format("worker-{}.log", cluster.rank()));
  log.line(fmt::format("worker {} of {}: device {}, {} threads", cluster.rank(), cluster.size() - 1,
                       device.str(), num_threads()));
  const space::ImageShape shape{data.channels(), data.height() / config.estimator.downscale,
                                data.num_classes};
  const std::shared_ptr<space::ArchSpace> arch_space =
      space::make_arch_space(config.space, config.space_options);
  const StopSignal stop;  // a signal ends the current trial's epoch loop, not the process
  while (true) {
    const nlohmann::json job = cluster.receive(0);
    if (job.value("type", "") == "quit") return;
    TrialReport r;
    r.trial = job.at("trial").get<int64_t>();
    const nlohmann::json& h = job.at("hp");
    const space::Hyperparameters hp{h.at("batch_size").get<int64_t>(), h.at("lr").get<double>(),
                                    h.at("momentum").get<double>(),
                                    h.at("weight_decay").get<double>()};
    const auto t0 = WallClock::now();
    try {
      const space::Point arch = job.at("arch");
      const std::shared_ptr<space::Network> net =
          build_trial_network(config, *arch_space, arch, shape, r.trial);
      r.params = config.estimator.model_scale < 1 ? arch_space->count_parameters(arch, shape)
                                                  : net->num_parameters();
      TrialPlan plan{job.at("epochs").get<int>(), config.estimator.downscale, {}};
      log.line(fmt::format("trial {}: {}", r.trial, arch_space->to_text(arch)));
      TrialTrainer trainer(data, config, net, hp, std::move(plan), device, log, run_path,
                           /*progress=*/false, [](const nlohmann::json&) {});
      r.outcome = trainer.run();
    } catch (const std::bad_alloc&) {
      r.failure = "out of memory";
    } catch (const Error& e) {
      r.failure = e.what();
    }
    r.wall_seconds = seconds_since(t0);
    cluster.send(0, to_json(r));
  }
}

}  // namespace fusenas::nas
