// The black-box search loop: replay the trial database into the strategies, then ask, train,
// record and tell one trial at a time until the budget is spent or a stop signal comes; the
// incumbent, its plots and the nas_train command after every trial.
#include "searcher.h"

#include <fmt/format.h>

#include <chrono>
#include <new>

#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/genotype.h"
#include "fusenas/nas/report/search_plots.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/strategy/make_strategy.h"
#include "trial_trainer.h"

namespace fusenas::nas {
namespace {

constexpr const char* kFormat = "fusenas-search";
constexpr int kVersion = 1;
constexpr uint64_t kInitStream = 0x696e6974ULL;  // "init": a trial's weights
constexpr uint64_t kHpStream = 0x6870ULL;        // "hp": the tuning stage's strategy

double seconds_between(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The hyperparameters a trial trained with, as the database stores them (the fixed ones may lie
// outside the tuning space's choices, so this is not HpSpace::point, which validates).
nlohmann::json hp_json(const space::Hyperparameters& h) {
  return {{"batch_size", h.batch_size},
          {"lr", h.lr},
          {"momentum", h.momentum},
          {"weight_decay", h.weight_decay}};
}

std::string hp_text(const space::Hyperparameters& h) {
  return fmt::format("batch {}, lr {:g}, momentum {:g}, weight decay {:g}", h.batch_size, h.lr,
                     h.momentum, h.weight_decay);
}

}  // namespace

BlackBoxSearcher::BlackBoxSearcher(const BlackBoxConfig& config, const BlackBoxOptions& options,
                                   const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      data_(load_dataset(config_.data.dataset, config_.data.data_dir, true)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("search")) {
  use_threads(options_.threads);
  shape_ = {data_.channels(), data_.height(), data_.num_classes};
  arch_space_ = space::make_arch_space(config_.space, config_.space_options);
  hp_space_ = std::make_shared<space::HpSpace>();
  if (config_.hpo == "joint")
    joint_space_ = std::make_shared<space::JointSpace>(arch_space_, hp_space_);
}

BlackBoxSearcher::Candidate BlackBoxSearcher::candidate(int64_t trial_id,
                                                        const space::Point& point) const {
  const space::Hyperparameters fixed{config_.batch_size, config_.sgd.lr, config_.sgd.momentum,
                                     config_.sgd.weight_decay};
  if (joint_space_) return {joint_space_->arch_part(point), joint_space_->hyperparameters(point)};
  if (in_hp_stage(trial_id)) return {tuned_arch_, hp_space_->values(point)};
  return {point, fixed};
}

strategy::Strategy& BlackBoxSearcher::stage_strategy(int64_t trial_id) {
  if (!in_hp_stage(trial_id)) {
    if (!arch_strategy_) {
      const space::Space& s =
          joint_space_ ? static_cast<const space::Space&>(*joint_space_) : *arch_space_;
      arch_strategy_ =
          strategy::make_strategy(config_.strategy.name, s, config_.seed,
                                  config_.strategy.options(config_.architecture_trials()));
    }
    return *arch_strategy_;
  }
  if (!hp_strategy_) {
    const auto best = arch_strategy_ ? arch_strategy_->incumbent() : std::nullopt;
    FUSENAS_CHECK(best.has_value(),
                  "no architecture trial of the first {} succeeded, so there is none to tune "
                  "(see the failures in {})",
                  config_.architecture_trials(), run_.file("search.log"));
    tuned_arch_ = best->point;
    hp_strategy_ = strategy::make_strategy(
        config_.strategy.name, *hp_space_, data::mix_seed(config_.seed, kHpStream, 0),
        config_.strategy.options(config_.budget_trials - config_.architecture_trials()));
    log_.line(fmt::format("tuning the hyperparameters of the best architecture ({:.2f}%): {}",
                          *best->score, arch_space_->to_text(tuned_arch_)));
  }
  return *hp_strategy_;
}

// Tells go back in id order, which is the order they were told: trials run one at a time, each
// told as it ends. Trials run in parallel would need their end order stored to replay the same.
void BlackBoxSearcher::replay() {
  int64_t arch_asked = 0, hp_asked = 0;
  for (const Trial& t : db_->trials()) {
    strategy::Strategy& s = stage_strategy(t.id);
    (in_hp_stage(t.id) ? hp_asked : arch_asked)++;
    switch (t.status) {
      case TrialStatus::kDone:
        s.tell(t.candidate, t.score);
        break;
      case TrialStatus::kFailed:
      case TrialStatus::kPruned:
        s.tell(t.candidate, std::nullopt);
        break;
      case TrialStatus::kPending:
      case TrialStatus::kRunning:
        s.mark_pending(t.candidate);
        break;
    }
  }
  if (arch_strategy_) arch_strategy_->set_asked(arch_asked);
  if (hp_strategy_) hp_strategy_->set_asked(hp_asked);
}

std::optional<Trial> BlackBoxSearcher::next_trial() {
  const std::vector<Trial> trials = db_->trials();
  for (const Trial& t : trials)
    if (t.status == TrialStatus::kPending) return t;
  const int64_t id = static_cast<int64_t>(trials.size()) + 1;
  if (id > config_.budget_trials) return std::nullopt;
  strategy::Strategy& s = stage_strategy(id);
  const space::Point point = s.ask();
  const Candidate c = candidate(id, point);
  NewTrial nt;
  nt.candidate = point;
  nt.encoding = s.space().encode(point);
  nt.hyperparameters = hp_json(c.hp);
  nt.fidelity = {{"epochs", config_.epochs}, {"train_subset", config_.data.train_subset}};
  nt.params = arch_space_->count_parameters(c.arch, shape_);
  const int64_t added = db_->add(nt);
  FUSENAS_CHECK(added == id, "{}: trial {} was added as {}", db_->path(), id, added);
  return db_->trial(id);
}

bool BlackBoxSearcher::run_trial(const Trial& t) {
  db_->start(t.id);
  strategy::Strategy& s = stage_strategy(t.id);
  const Candidate c = candidate(t.id, t.candidate);
  const std::string label = fmt::format("trial {}/{}", t.id, config_.budget_trials);
  log_.line(fmt::format("{}: {} | {}", label, arch_space_->to_text(c.arch), hp_text(c.hp)));
  const auto t0 = std::chrono::steady_clock::now();
  TrialOutcome outcome;
  int64_t params = 0;
  std::string failure;
  try {
    Generator init(data::mix_seed(config_.seed, kInitStream, static_cast<uint64_t>(t.id)));
    const std::shared_ptr<space::Network> net = arch_space_->build(c.arch, shape_, init);
    params = net->num_parameters();
    TrialTrainer trainer(data_, config_, net, c.hp, device_, log_, run_.path(), options_.progress,
                         [&](const nlohmann::json& m) { db_->append_epoch(t.id, m); });
    outcome = trainer.run();
    if (!outcome.finished) return false;  // still "running": a resume runs it again
  } catch (const std::bad_alloc&) {
    failure = "out of memory";
  } catch (const Error& e) {
    failure = e.what();
  }
  const double wall = seconds_between(t0);
  if (!failure.empty()) {
    db_->fail(t.id, failure, wall);
    s.tell(t.candidate, std::nullopt);
    log_.line(
        fmt::format("{} failed after {:.1f} s: {}; the search goes on", label, wall, failure));
    return true;
  }
  TrialResult r;
  r.metrics = {{"val_acc", outcome.val_acc},     {"val_loss", outcome.val_loss},
               {"train_acc", outcome.train_acc}, {"train_loss", outcome.train_loss},
               {"epochs", config_.epochs},       {"text", arch_space_->to_text(c.arch)}};
  r.score = outcome.val_acc;
  r.params = params;
  r.wall_seconds = wall;
  db_->finish(t.id, r);
  s.tell(t.candidate, r.score);
  const auto best = s.incumbent();
  log_.line(fmt::format("{}: {:.2f}% search-val (best so far {:.2f}%), {} params, {:.1f} s", label,
                        outcome.val_acc, best ? *best->score : outcome.val_acc, params, wall));
  return true;
}

double BlackBoxSearcher::spent_seconds() const {
  double total = 0;
  for (const Trial& t : db_->trials())
    if (t.wall_seconds) total += *t.wall_seconds;
  return total;
}

bool BlackBoxSearcher::out_of_time() const {
  return config_.budget_minutes > 0 && spent_seconds() >= config_.budget_minutes * 60;
}

void BlackBoxSearcher::save_checkpoint(bool finished) const {
  CheckpointWriter w;
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  s["finished"] = finished;
  s["trials"] = db_->count();
  s["trials_file"] = TrialDb::kFile;
  w.save(run_.path());
}

BlackBoxResult BlackBoxSearcher::result(bool finished) const {
  BlackBoxResult r;
  r.run_dir = run_.path();
  r.finished = finished;
  for (const Trial& t : db_->trials()) {
    if (t.status == TrialStatus::kFailed) ++r.failed;
    if (t.status == TrialStatus::kDone || t.status == TrialStatus::kFailed) ++r.trials;
    if (t.status != TrialStatus::kDone || !t.score) continue;
    if (r.best_score && *t.score <= *r.best_score) continue;
    r.best_score = t.score;
    r.best_trial = t.id;
    r.best_arch = candidate(t.id, t.candidate).arch;
    r.best_hp = t.hyperparameters;
  }
  if (r.best_score) {
    r.best_text = arch_space_->to_text(r.best_arch);
    if (config_.space == "darts-cell") {
      r.train_command = nas_train_command(run_.path() + "/best_genotype.txt", config_.data.dataset,
                                          config_.data.data_dir, config_.preset == "quick");
    } else {
      // nas_train reads the space, its options (config.json beside it) and the hyperparameters
      // from the incumbent; a quick search's incumbent trains for a CPU-sized 10 epochs.
      r.train_command = fmt::format("nas_train --arch-file {}/incumbent.json --dataset {}",
                                    run_.path(), config_.data.dataset);
      if (config_.data.dataset != "fashion-mnist" ||
          config_.data.data_dir != data::kFashionMnistDir)
        r.train_command += " --data-dir " + config_.data.data_dir;
      if (config_.preset == "quick") r.train_command += " --epochs 10";
    }
  }
  return r;
}

void BlackBoxSearcher::write_outputs() const {
  const BlackBoxResult r = result(false);
  report::SearchTrials series{config_.strategy.name, {}};
  double elapsed = 0;
  for (const Trial& t : db_->trials()) {
    if (t.wall_seconds) elapsed += *t.wall_seconds;
    report::TrialPoint p;
    p.id = t.id;
    p.elapsed_seconds = elapsed;
    p.score = t.score;
    p.params = t.params.value_or(0);
    p.outcome = t.status == TrialStatus::kDone     ? report::TrialOutcome::kDone
                : t.status == TrialStatus::kFailed ? report::TrialOutcome::kFailed
                : t.status == TrialStatus::kPruned ? report::TrialOutcome::kPruned
                                                   : report::TrialOutcome::kUnfinished;
    series.trials.push_back(p);
  }
  run_.write_text("incumbent.svg", report::svg_incumbent_plot({series}, "search-val accuracy (%)"));
  run_.write_text("accuracy_vs_params.svg",
                  report::svg_score_vs_params({series}, "search-val accuracy (%)"));
  if (!r.best_score) return;
  if (config_.space == "darts-cell") {
    const Genotype g = Genotype::from_json(r.best_arch.dump());
    run_.write_text("best_genotype.txt", g.to_text() + "\n");
  }
  run_.write_json("incumbent.json", {{"trial", r.best_trial},
                                     {"score", *r.best_score},
                                     {"space", config_.space},
                                     {"arch", r.best_arch},
                                     {"hp", r.best_hp},
                                     {"text", r.best_text},
                                     {"train_command", r.train_command}});
}

BlackBoxResult BlackBoxSearcher::run() {
  const StopSignal stop;
  const SearchLoaders split = make_search_loaders(data_, config_.search_data(config_.batch_size));
  log_.line(fmt::format(
      "nas_search: {} over the {} space{} on {} ({} search-train / {} search-val images), {} "
      "trials of {} epochs{}, device {}, {} threads; run folder {}",
      config_.strategy.name, config_.space,
      config_.hpo == "off" ? "" : fmt::format(", hyperparameters {}", config_.hpo),
      config_.data.dataset, split.train->num_samples(), split.eval->num_samples(),
      config_.budget_trials, config_.epochs,
      config_.budget_minutes > 0 ? fmt::format(" or {} minutes", config_.budget_minutes) : "",
      device_.str(), num_threads(), run_.path()));
  SearchIdentity identity;
  identity.strategy = config_.strategy.name;
  identity.space = joint_space_ ? joint_space_->name() : arch_space_->name();
  identity.seed = config_.seed;
  identity.config = to_json(config_);
  db_.emplace(TrialDb::open_or_create(run_.file(TrialDb::kFile), identity));
  // The run folder is locked, so no other process runs any of these trials.
  const int64_t requeued = db_->requeue_running(Requeue::kAll);
  replay();
  if (db_->count() > 0) {
    log_.line(fmt::format(
        "resuming after {} ended trials{}", result(false).trials,
        requeued > 0 ? fmt::format("; {} interrupted trial(s) run again", requeued) : ""));
  }
  save_checkpoint(false);
  while (true) {
    const int64_t ended = result(false).trials;
    if (stop.requested() || (options_.stop_after_steps > 0 && ended >= options_.stop_after_steps)) {
      save_checkpoint(false);
      log_.line(
          fmt::format("stopped after {} trials; continue with --resume {}", ended, run_.path()));
      return result(false);
    }
    if (out_of_time()) {
      log_.line(fmt::format("the {}-minute budget is spent", config_.budget_minutes));
      break;
    }
    const std::optional<Trial> t = next_trial();
    if (!t) break;
    if (!run_trial(*t)) {
      save_checkpoint(false);
      log_.line(fmt::format("stopped during trial {}; it runs again with --resume {}", t->id,
                            run_.path()));
      return result(false);
    }
    write_outputs();
    save_checkpoint(false);
  }
  write_outputs();
  save_checkpoint(true);
  const BlackBoxResult r = result(true);
  FUSENAS_CHECK(r.best_score.has_value(), "all {} trials failed (reasons in {})", r.trials,
                run_.file("search.log"));
  log_.line(fmt::format("best: trial {}, {:.2f}% search-val: {}", r.best_trial, *r.best_score,
                        r.best_text));
  log_.line(
      fmt::format("run folder {}: incumbent.json, incumbent.svg, accuracy_vs_params.svg, "
                  "trials.sqlite, search.log",
                  run_.path()));
  if (!r.train_command.empty()) log_.line("train it: " + r.train_command);
  return r;
}

BlackBoxResult blackbox_search(const BlackBoxConfig& config, const BlackBoxOptions& options) {
  return start_run<BlackBoxSearcher>(config, options, "search");
}

BlackBoxResult blackbox_resume(const std::string& run_dir, const BlackBoxOptions& options) {
  return resume_run<BlackBoxSearcher>(run_dir, options, "search", &blackbox_config_from_json);
}

}  // namespace fusenas::nas
