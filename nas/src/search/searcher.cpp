// The black-box search loop: replay the trial database into the strategies, then ask, train,
// record and tell one trial at a time until the budget is spent or a stop signal comes; the
// incumbent, its plots and the nas_train command after every trial.
#include "searcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <new>

#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/estimate/curve_extrapolation.h"
#include "fusenas/nas/genotype.h"
#include "fusenas/nas/report/search_plots.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/run/wall_clock.h"
#include "fusenas/nas/search/cluster.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/model_scale.h"
#include "fusenas/nas/strategy/make_strategy.h"
#include "trial_trainer.h"
#include "trial_worker.h"

namespace fusenas::nas {
namespace {

constexpr const char* kFormat = "fusenas-search";
constexpr int kVersion = 1;
constexpr uint64_t kInitStream = 0x696e6974ULL;  // "init": a trial's weights
constexpr uint64_t kHpStream = 0x6870ULL;        // "hp": the tuning stage's strategy
constexpr uint64_t kBudgetStream = 0x6275ULL;    // "bu": Hyperband's strategy of one budget

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
  // Networks are built for the images they see (downscaled ones at a low fidelity).
  shape_ = {data_.channels(), data_.height() / config_.estimator.downscale, data_.num_classes};
  arch_space_ = space::make_arch_space(config_.space, config_.space_options);
  hp_space_ = std::make_shared<space::HpSpace>();
  if (config_.hpo == "joint")
    joint_space_ = std::make_shared<space::JointSpace>(arch_space_, hp_space_);
  if (config_.estimator.morphism()) {
    morph_ = std::make_unique<MorphEvolution>(
        arch_space_, *config_.strategy.options(config_.budget_trials).evolution, config_.seed);
  }
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

namespace {

bool ended(TrialStatus s) {
  return s == TrialStatus::kDone || s == TrialStatus::kFailed || s == TrialStatus::kPruned;
}

}  // namespace

// Tells go back in the order the trials ended, which is the order they were told (the id order
// when trials run one at a time; worker ranks end them out of order).
// Hyperband's scheduler is rebuilt the same way: each trial is the job it asks for next.
// What a trial's end tells its strategy: its score (see done_score); for a trial pruned by its
// learning curve the predicted final score (Domhan et al. return the prediction to the
// optimiser); none for a failure.
std::optional<double> BlackBoxSearcher::told_score(const Trial& t) const {
  if (t.status == TrialStatus::kDone && t.score) return done_score(t.curve, *t.score);
  if (t.status == TrialStatus::kPruned && t.metrics.is_object() &&
      t.metrics.contains("predicted_val_acc"))
    return t.metrics["predicted_val_acc"].get<double>();
  return std::nullopt;
}

// The final search-val accuracy; for --strategy rl with Zoph & Le's reward, the best of the last
// 5 epochs (the strategy cubes it).
double BlackBoxSearcher::done_score(const std::vector<nlohmann::json>& curve,
                                    double final_score) const {
  if (config_.strategy.name != "rl" || config_.strategy.rl_reward != "max5-cubed" || curve.empty())
    return final_score;
  double best = final_score;
  const size_t first = curve.size() > 5 ? curve.size() - 5 : 0;
  for (size_t i = first; i < curve.size(); ++i)
    best = std::max(best, curve[i].at("val_acc").get<double>());
  return best;
}

void BlackBoxSearcher::replay() {
  if (morph_) return;  // plans come from the trials themselves, not from a strategy
  if (config_.estimator.hyperband()) return replay_hyperband();
  int64_t arch_asked = 0, hp_asked = 0;
  std::vector<Trial> trials = db_->trials();
  std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
    const double inf = std::numeric_limits<double>::infinity();
    return a.finished.value_or(inf) < b.finished.value_or(inf);
  });
  for (const Trial& t : trials) {
    strategy::Strategy& s = stage_strategy(t.id);
    (in_hp_stage(t.id) ? hp_asked : arch_asked)++;
    if (ended(t.status)) {
      s.tell(t.candidate, told_score(t));
    } else {
      s.mark_pending(t.candidate);
    }
  }
  if (arch_strategy_) arch_strategy_->set_asked(arch_asked);
  if (hp_strategy_) hp_strategy_->set_asked(hp_asked);
}

// Each trial is the job Hyperband asks for next; a new configuration's ask marks it pending in
// the strategy that proposed it, and each result is told to its budget's strategy, in the order
// the uninterrupted search did both.
void BlackBoxSearcher::replay_hyperband() {
  std::map<int, int64_t> asked;
  for (const Trial& t : db_->trials()) {
    const estimate::Job job = next_job();
    const std::optional<int> model =
        job.new_config ? std::optional<int>(model_epochs()) : std::nullopt;
    const nlohmann::json want = fidelity(nullptr, model);
    FUSENAS_CHECK(t.fidelity == want,
                  "{}: trial {} has fidelity {}, but Hyperband schedules {} next (was the "
                  "database written by another search?)",
                  db_->path(), t.id, t.fidelity.dump(), want.dump());
    if (job.new_config) {
      hb_points_.push_back(t.candidate);
      budget_strategy(*model).mark_pending(t.candidate);
      ++asked[*model];
    }
    if (ended(t.status)) {
      budget_strategy(trial_epochs(t)).tell(t.candidate, told_score(t));
      scheduler_->tell(job, told_score(t));
      job_.reset();
    }
  }
  for (const auto& [epochs, n] : asked) budget_strategy(epochs).set_asked(n);
}

strategy::Strategy& BlackBoxSearcher::budget_strategy(int epochs) {
  std::unique_ptr<strategy::Strategy>& s = budget_strategies_[epochs];
  if (!s) {
    const space::Space& space =
        joint_space_ ? static_cast<const space::Space&>(*joint_space_) : *arch_space_;
    s = strategy::make_strategy(config_.strategy.name, space,
                                data::mix_seed(config_.seed, kBudgetStream, epochs),
                                config_.strategy.options(config_.budget_trials));
  }
  return *s;
}

// BOHB's rule (Falkner et al. 2018): a new configuration comes from the model of the largest
// budget with enough observations for its model (BO: its random start; evolution: a
// population), else from the strategy of the job's own budget, which then samples at random.
int BlackBoxSearcher::model_epochs() const {
  const strategy::StrategyOptions o = config_.strategy.options(config_.budget_trials);
  int64_t enough = 1;
  if (config_.strategy.name == "bo") enough = o.bo->initial_random;
  if (config_.strategy.name == "evolution") enough = o.evolution->population;
  int best = 0;
  for (const auto& [epochs, s] : budget_strategies_)
    if (static_cast<int64_t>(s->history().size()) >= enough) best = std::max(best, epochs);
  return best > 0 ? best : static_cast<int>(std::ceil(job_->resource - 1e-9));
}

std::optional<Trial> BlackBoxSearcher::next_trial() {
  const std::vector<Trial> trials = db_->trials();
  for (const Trial& t : trials)
    if (t.status == TrialStatus::kPending) return t;
  const int64_t id = static_cast<int64_t>(trials.size()) + 1;
  if (id > config_.budget_trials) return std::nullopt;
  if (morph_) {
    const MorphPlan plan = morph_->plan(id, trials);
    const Candidate c = candidate(id, plan.candidate);
    NewTrial nt;
    nt.candidate = c.arch;
    nt.encoding = arch_space_->encode(c.arch);
    nt.hyperparameters = hp_json(c.hp);
    nt.fidelity = fidelity(&plan, std::nullopt);
    nt.params = arch_space_->count_parameters(c.arch, shape_);
    const int64_t added = db_->add(nt);
    FUSENAS_CHECK(added == id, "{}: trial {} was added as {}", db_->path(), id, added);
    return db_->trial(id);
  }
  strategy::Strategy* s = nullptr;
  space::Point point;
  std::optional<int> model;  // Hyperband: the budget whose strategy proposes a new configuration
  if (config_.estimator.hyperband()) {
    const estimate::Job job = next_job();
    if (job.new_config) {
      model = model_epochs();
      s = &budget_strategy(*model);
      point = s->ask();
      hb_points_.push_back(point);
    } else {
      s = &budget_strategy(static_cast<int>(std::ceil(job.resource - 1e-9)));
      point = hb_points_.at(static_cast<size_t>(job.config));
    }
  } else {
    s = &stage_strategy(id);
    point = s->ask();
  }
  const Candidate c = candidate(id, point);
  NewTrial nt;
  nt.candidate = point;
  nt.encoding = s->space().encode(point);
  nt.hyperparameters = hp_json(c.hp);
  nt.fidelity = fidelity(nullptr, model);
  nt.params = arch_space_->count_parameters(c.arch, shape_);
  const int64_t added = db_->add(nt);
  FUSENAS_CHECK(added == id, "{}: trial {} was added as {}", db_->path(), id, added);
  return db_->trial(id);
}

estimate::Job BlackBoxSearcher::next_job() {
  if (!scheduler_ || scheduler_->finished()) {
    const double max_epochs = config_.epochs;
    const double min_epochs = config_.estimator.min_epochs;
    const int eta = config_.estimator.eta;
    if (config_.estimator.name == "hyperband") {
      scheduler_ = estimate::HyperbandScheduler::hyperband(max_epochs, eta, min_epochs);
    } else {
      // Successive halving alone: Hyperband's most aggressive bracket, eta^s_max candidates from
      // min_epochs up to the full epochs.
      scheduler_.emplace(
          std::vector<estimate::Bracket>{
              estimate::hyperband_brackets(max_epochs, eta, min_epochs).front()},
          eta);
    }
    ++hb_iteration_;
    hb_points_.clear();
  }
  const std::optional<estimate::Job> job = scheduler_->ask();
  // Trials run one at a time, so every job handed out has been told and a scheduler that is not
  // finished always has one.
  FUSENAS_CHECK(job.has_value(), "Hyperband has no job to run although none is running");
  job_ = job;
  return *job;
}

// The fidelity a trial trains at, as the database stores it (and a resume checks).
nlohmann::json BlackBoxSearcher::fidelity(const MorphPlan* morph,
                                          std::optional<int> model_epochs) const {
  nlohmann::json f = {{"epochs", config_.epochs},
                      {"train_subset", config_.data.train_subset},
                      {"downscale", config_.estimator.downscale},
                      {"model_scale", config_.estimator.model_scale},
                      {"estimator", config_.estimator.name}};
  if (config_.estimator.tapas()) f["predictor"] = config_.estimator.predictor;
  if (config_.estimator.one_shot()) {
    f["epochs"] = 0;  // the trial trains nothing: the supernet's weights score it
    f["supernet_epochs"] = config_.estimator.supernet_epochs;
  }
  if (morph && morph->parent) f["morph"] = MorphEvolution::plan_json(*morph);
  if (job_) {
    // Resources are epochs; a fractional one (R / r_min not a power of eta) rounds up.
    f["epochs"] = static_cast<int>(std::ceil(job_->resource - 1e-9));
    f["hyperband"] = {{"iteration", hb_iteration_},
                      {"bracket", job_->bracket},
                      {"rung", job_->rung},
                      {"config", job_->config}};
    if (model_epochs) f["hyperband"]["model_epochs"] = *model_epochs;
  }
  return f;
}

int BlackBoxSearcher::trial_epochs(const Trial& t) const {
  return t.fidelity.is_object() ? t.fidelity.value("epochs", config_.epochs) : config_.epochs;
}

nlohmann::json BlackBoxSearcher::curve_prune_check(const std::vector<nlohmann::json>& curve) const {
  if (static_cast<int>(curve.size()) < config_.estimator.curve_min_epochs) return nullptr;
  const std::optional<double> best = result(false).best_score;
  if (!best) return nullptr;  // nothing to beat yet
  std::vector<double> y;
  for (const nlohmann::json& m : curve) y.push_back(m.at("val_acc").get<double>() / 100.0);
  const estimate::PruneDecision d =
      estimate::should_prune(y, config_.epochs, *best / 100.0, config_.estimator.curve_threshold);
  if (!d.prune) return nullptr;
  return {{"predicted_val_acc", 100.0 * d.prediction.mean},
          {"predicted_std", 100.0 * d.prediction.std},
          {"probability_to_beat", d.probability},
          {"incumbent", *best},
          {"epochs_trained", static_cast<int>(curve.size())},
          {"val_acc", curve.back().at("val_acc")}};
}

// Builds the trial's network (a fresh one, or a morphism child of its parent's trained one) and
// trains it; its weights are kept for children in a morphism search.
TrialOutcome BlackBoxSearcher::train_candidate(const Trial& t, const Candidate& c,
                                               const MorphPlan& morph, int64_t& params) {
  std::shared_ptr<space::Network> net;
  if (morph_ && morph.parent) {
    Generator init(data::mix_seed(config_.seed, kInitStream, static_cast<uint64_t>(t.id)));
    const Trial parent = db_->trial(*morph.parent);
    net = morph_->build(t, &parent, MorphEvolution::weights_file(run_.path(), parent.id), shape_,
                        init);
  } else {
    net = build_trial_network(config_, *arch_space_, c.arch, shape_, t.id);
  }
  // A narrower network (model scale below 1) records the full one's size.
  params = config_.estimator.model_scale < 1 ? arch_space_->count_parameters(c.arch, shape_)
                                             : net->num_parameters();
  TrialPlan plan{trial_epochs(t), config_.estimator.downscale, {}};
  if (config_.estimator.name == "curve")
    plan.prune_check = [this](const std::vector<nlohmann::json>& curve) {
      return curve_prune_check(curve);
    };
  TrialTrainer trainer(data_, config_, net, c.hp, std::move(plan), device_, log_, run_.path(),
                       options_.progress,
                       [&](const nlohmann::json& m) { db_->append_epoch(t.id, m); });
  const TrialOutcome outcome = trainer.run();
  // Morphism children inherit these weights. Saved before the trial is recorded as done, so a
  // done trial always has them.
  if (morph_ && outcome.finished && outcome.pruned.is_null()) {
    const nn::StateDict state = net->state_dict();
    io::save_safetensors(MorphEvolution::weights_file(run_.path(), t.id),
                         {state.begin(), state.end()});
  }
  return outcome;
}

// The strategy a trial's result is told to: none for morphism plans (they ask no strategy);
// Hyperband tells each result to its budget's strategy.
strategy::Strategy* BlackBoxSearcher::trial_strategy(const Trial& t) {
  if (morph_) return nullptr;
  if (config_.estimator.hyperband()) return &budget_strategy(trial_epochs(t));
  return &stage_strategy(t.id);
}

std::string BlackBoxSearcher::trial_label(const Trial& t) const {
  return fmt::format("trial {}/{}", t.id, config_.budget_trials);
}

void BlackBoxSearcher::begin_trial(const Trial& t) {
  db_->start(t.id);
  const Candidate c = candidate(t.id, t.candidate);
  const MorphPlan morph = MorphEvolution::from_trial(t);
  log_.line(fmt::format("{}: {} | {}{}", trial_label(t), arch_space_->to_text(c.arch),
                        hp_text(c.hp),
                        morph.parent ? fmt::format(" | {} of trial {}, its weights inherited",
                                                   space::to_text(*morph.morphism), *morph.parent)
                                     : ""));
}

bool BlackBoxSearcher::run_trial(const Trial& t) {
  begin_trial(t);
  const Candidate c = candidate(t.id, t.candidate);
  const MorphPlan morph = MorphEvolution::from_trial(t);
  const auto t0 = WallClock::now();
  TrialOutcome outcome;
  int64_t params = 0;
  std::string failure;
  try {
    if (one_shot_) {
      params = arch_space_->count_parameters(c.arch, shape_);
      outcome.finished = true;
      outcome.val_acc = one_shot_->score(c.arch, one_shot_val_);
    } else if (predictor_) {
      params = arch_space_->count_parameters(c.arch, shape_);
      estimate::tapas::Query q = query_;
      q.arch = c.arch;
      outcome.finished = true;
      outcome.val_acc = predictor_->predict(q);
    } else {
      outcome = train_candidate(t, c, morph, params);
      if (!outcome.finished) return false;  // still "running": a resume runs it again
    }
  } catch (const std::bad_alloc&) {
    failure = "out of memory";
  } catch (const Error& e) {
    failure = e.what();
  }
  record_trial(t, outcome, params, failure, seconds_since(t0));
  return true;
}

// --strategy rl: one line per controller update, as it happens (the reward curve of the search).
void BlackBoxSearcher::log_controller_update(const strategy::Strategy* s) {
  const auto* rl = dynamic_cast<const strategy::ReinforceStrategy*>(s);
  if (!rl || rl->steps().empty() || rl->steps().back().step == logged_updates_) return;
  const strategy::RlStep& u = rl->steps().back();
  logged_updates_ = u.step;
  log_.line(
      fmt::format("controller update {}: mean reward {:.4f} against baseline {:.4f}, "
                  "entropy {:.2f} nats",
                  u.step, u.mean_reward, u.baseline, u.entropy));
}

void BlackBoxSearcher::record_trial(const Trial& t, const TrialOutcome& outcome, int64_t params,
                                    const std::string& failure, double wall) {
  strategy::Strategy* s = trial_strategy(t);
  const Candidate c = candidate(t.id, t.candidate);
  const std::string label = trial_label(t);
  const bool tell_strategy = s != nullptr;
  const auto tell = [&](std::optional<double> score) {
    if (tell_strategy) s->tell(t.candidate, score);
    log_controller_update(s);
    if (job_) {
      scheduler_->tell(*job_, score);
      job_.reset();
    }
  };
  if (!failure.empty()) {
    db_->fail(t.id, failure, wall);
    tell(std::nullopt);
    log_.line(
        fmt::format("{} failed after {:.1f} s: {}; the search goes on", label, wall, failure));
    return;
  }
  if (!outcome.pruned.is_null()) {
    const double predicted = outcome.pruned["predicted_val_acc"].get<double>();
    db_->prune(
        t.id,
        fmt::format("learning curve: {:.1f}% predicted after {} epochs, P(beats {:.2f}%) = "
                    "{:.3f}",
                    predicted, outcome.curve.size(), outcome.pruned["incumbent"].get<double>(),
                    outcome.pruned["probability_to_beat"].get<double>()),
        outcome.pruned, wall);
    if (tell_strategy) s->tell(t.candidate, predicted);
    log_controller_update(s);
    log_.line(
        fmt::format("{}: pruned after {} of {} epochs at {:.2f}% search-val ({:.2f}% +- "
                    "{:.2f} predicted), {:.1f} s",
                    label, outcome.curve.size(), trial_epochs(t), outcome.val_acc, predicted,
                    outcome.pruned["predicted_std"].get<double>(), wall));
    return;
  }
  TrialResult r;
  r.metrics = {{"val_acc", outcome.val_acc},     {"val_loss", outcome.val_loss},
               {"train_acc", outcome.train_acc}, {"train_loss", outcome.train_loss},
               {"epochs", trial_epochs(t)},      {"text", arch_space_->to_text(c.arch)}};
  r.score = outcome.val_acc;
  r.params = params;
  r.wall_seconds = wall;
  db_->finish(t.id, r);
  tell(done_score(outcome.curve, outcome.val_acc));
  const auto best = result(false).best_score;
  log_.line(fmt::format(
      "{}: {:.2f}% search-val{} (best so far {:.2f}%), {} params, {:.1f} s", label, outcome.val_acc,
      job_ || config_.estimator.hyperband() ? fmt::format(" after {} epochs", trial_epochs(t)) : "",
      best.value_or(outcome.val_acc), params, wall));
}

double BlackBoxSearcher::spent_seconds() const {
  double total = 0;
  // The supernet's training is part of a one-shot search's budget.
  if (one_shot_)
    for (const estimate::OneShotEpoch& e : one_shot_->history()) total += e.seconds;
  for (const Trial& t : db_->trials())
    if (t.wall_seconds) total += *t.wall_seconds;
  return total;
}

// The budget ends the search at a trial's end: a supernet that took all of it still gets one
// trial scored, so the search has an incumbent.
bool BlackBoxSearcher::out_of_time() const {
  return config_.budget_minutes > 0 && db_->count() > 0 &&
         spent_seconds() >= config_.budget_minutes * 60;
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
  // Scores at different epochs do not compare (Hyperband's rungs): the incumbent is the best of
  // the trials trained longest.
  const std::vector<Trial> trials = db_->trials();
  int top_epochs = 0;
  for (const Trial& t : trials)
    if (t.status == TrialStatus::kDone) top_epochs = std::max(top_epochs, trial_epochs(t));
  for (const Trial& t : trials) {
    if (t.status == TrialStatus::kFailed) ++r.failed;
    if (t.status == TrialStatus::kPruned) ++r.pruned;
    if (ended(t.status)) ++r.trials;
    if (t.status != TrialStatus::kDone || !t.score || trial_epochs(t) != top_epochs) continue;
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

bool BlackBoxSearcher::prepare_one_shot(const StopSignal& stop) {
  estimate::OneShotConfig oc;
  oc.epochs = config_.estimator.supernet_epochs;
  one_shot_ =
      std::make_unique<estimate::OneShotEstimator>(*arch_space_, shape_, oc, config_.seed, device_);
  const std::string dir = run_.file("one_shot");
  if (std::filesystem::exists(dir + "/checkpoint.json")) one_shot_->load(dir);
  const SearchLoaders loaders = make_search_loaders(data_, config_.search_data(config_.batch_size));
  if (!one_shot_->trained()) {
    log_.line(fmt::format("training the supernet for {} epochs{}", oc.epochs,
                          one_shot_->epochs_done() > 0
                              ? fmt::format(" (from epoch {})", one_shot_->epochs_done() + 1)
                              : ""));
    std::filesystem::create_directories(dir);
    estimate::OneShotHooks hooks;
    hooks.stop = [&] { return stop.requested(); };
    hooks.on_epoch = [&](const estimate::OneShotEpoch& e) {
      log_.line(
          fmt::format("supernet epoch {}/{}: loss {:.4f}, {:.2f}% of sampled paths' "
                      "training batches, lr {:.4g}, {:.1f} s",
                      e.epoch, oc.epochs, e.loss, e.acc, e.lr, e.seconds));
    };
    const bool done = one_shot_->train(*loaders.train, hooks);
    one_shot_->save(dir);
    if (!done) return false;
  }
  one_shot_val_ = estimate::OneShotEstimator::validation_batches(*loaders.eval, 0);
  return true;
}

BlackBoxResult BlackBoxSearcher::run() {
  if (options_.cluster && options_.cluster->size() > 1) {
    FUSENAS_CHECK(config_.estimator.name == "full",
                  "under mpirun, trials train on worker ranks with --estimator full only (the {} "
                  "estimator needs each trial's epochs in rank 0)",
                  config_.estimator.name);
    FUSENAS_CHECK(config_.hpo != "after",
                  "under mpirun, --hpo after is not supported (its tuning stage starts from the "
                  "finished architecture search); use --hpo off or joint");
  }
  const StopSignal stop;
  const SearchLoaders split = make_search_loaders(data_, config_.search_data(config_.batch_size));
  log_.line(fmt::format(
      "nas_search: {} over the {} space{} on {} ({} search-train / {} search-val images), {} "
      "trials {}{}, device {}, {} threads; run folder {}",
      config_.strategy.name, config_.space,
      config_.hpo == "off" ? "" : fmt::format(", hyperparameters {}", config_.hpo),
      config_.data.dataset, split.train->num_samples(), split.eval->num_samples(),
      config_.budget_trials,
      config_.estimator.one_shot()
          ? fmt::format("scored by a supernet of {} epochs", config_.estimator.supernet_epochs)
      : config_.estimator.name == "full" ? fmt::format("of {} epochs", config_.epochs)
                                         : fmt::format("of up to {} epochs ({} estimator)",
                                                       config_.epochs, config_.estimator.name),
      config_.budget_minutes > 0 ? fmt::format(" or {} minutes", config_.budget_minutes) : "",
      device_.str(), num_threads(), run_.path()));
  SearchIdentity identity;
  identity.strategy = config_.strategy.name;
  identity.space = joint_space_ ? joint_space_->name() : arch_space_->name();
  identity.seed = config_.seed;
  identity.config = to_json(config_);
  // A search begun by an older version stored its config without the keys added since: read
  // through the config's own loader, it compares with their defaults filled in.
  db_.emplace(TrialDb::open_or_create(
      run_.file(TrialDb::kFile), identity,
      [](const nlohmann::json& j) { return to_json(blackbox_config_from_json(j)); }));
  // The run folder is locked, so no other process runs any of these trials.
  const int64_t requeued = db_->requeue_running(Requeue::kAll);
  if (morph_) std::filesystem::create_directories(run_.file("weights"));
  replay();
  if (const auto* rl = dynamic_cast<const strategy::ReinforceStrategy*>(arch_strategy_.get()))
    logged_updates_ = static_cast<int64_t>(rl->steps().size());  // logged before the resume
  if (config_.estimator.tapas()) {
    predictor_ = estimate::tapas::Predictor::load(config_.estimator.predictor);
    const std::optional<double> dcn = predictor_->dcn(config_.data.dataset);
    FUSENAS_CHECK(dcn.has_value(),
                  "the predictor {} was not trained on {} (no difficulty score for it)",
                  config_.estimator.predictor, config_.data.dataset);
    query_.space = config_.space;
    query_.space_options = config_.space_options;
    query_.dataset = config_.data.dataset;
    query_.fidelity = {config_.epochs, split.train->num_samples(), config_.estimator.downscale};
    query_.dcn = *dcn;
    log_.line(fmt::format("trials are predicted by {} (trained on {})", config_.estimator.predictor,
                          predictor_->trained_on().dump()));
  }
  if (config_.estimator.one_shot() && !prepare_one_shot(stop)) {
    save_checkpoint(false);
    log_.line(
        fmt::format("stopped while training the supernet; continue with --resume {}", run_.path()));
    return result(false);
  }
  if (db_->count() > 0) {
    log_.line(fmt::format(
        "resuming after {} ended trials{}", result(false).trials,
        requeued > 0 ? fmt::format("; {} interrupted trial(s) run again", requeued) : ""));
  }
  save_checkpoint(false);
  const bool finished = options_.cluster && options_.cluster->size() > 1 ? run_on_workers(stop)
                                                                         : run_sequential(stop);
  if (!finished) return result(false);
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

bool BlackBoxSearcher::run_sequential(const StopSignal& stop) {
  while (true) {
    const int64_t ended = result(false).trials;
    if (stop.requested() || (options_.stop_after_steps > 0 && ended >= options_.stop_after_steps)) {
      save_checkpoint(false);
      log_.line(
          fmt::format("stopped after {} trials; continue with --resume {}", ended, run_.path()));
      return false;
    }
    if (out_of_time()) {
      log_.line(fmt::format("the {}-minute budget is spent", config_.budget_minutes));
      return true;
    }
    const std::optional<Trial> t = next_trial();
    if (!t) return true;
    if (!run_trial(*t)) {
      save_checkpoint(false);
      log_.line(fmt::format("stopped during trial {}; it runs again with --resume {}", t->id,
                            run_.path()));
      return false;
    }
    write_outputs();
    save_checkpoint(false);
  }
}

bool BlackBoxSearcher::run_on_workers(const StopSignal& stop) {
  const Cluster& cluster = *options_.cluster;
  for (int w = 1; w < cluster.size(); ++w) cluster.send(w, worker_setup(run_.path(), config_));
  try {
    const bool finished = run_parallel(stop);
    cluster.release_workers();
    return finished;
  } catch (...) {
    cluster.release_workers();  // a worker still training finishes its trial, then ends
    throw;
  }
}

bool BlackBoxSearcher::run_parallel(const StopSignal& stop) {
  const Cluster& cluster = *options_.cluster;
  const int workers = cluster.size() - 1;
  const bool sync = config_.parallel == "sync";
  // A sync batch: what one update of the strategy consumes (rl), else one trial per worker.
  const int batch = sync && config_.strategy.name == "rl"
                        ? config_.strategy.options(config_.budget_trials).rl->children_per_step
                        : workers;
  log_.line(fmt::format("{} worker ranks train the trials ({}{})", workers, config_.parallel,
                        sync ? fmt::format(", batches of {}", batch) : ""));
  std::vector<int> idle;
  for (int w = workers; w >= 1; --w) idle.push_back(w);
  std::map<int64_t, Trial> in_flight;      // by trial id
  std::map<int64_t, TrialReport> arrived;  // sync: reports held until their batch is complete
  int dispatched_in_batch = 0;
  bool stopping = false;
  const auto record = [&](const Trial& t, const TrialReport& r) {
    for (const nlohmann::json& m : r.outcome.curve) db_->append_epoch(t.id, m);
    record_trial(t, r.outcome, r.params, r.failure, r.wall_seconds);
    write_outputs();
    save_checkpoint(false);
  };
  while (true) {
    const int64_t ended = result(false).trials;
    if (stop.requested() || (options_.stop_after_steps > 0 && ended >= options_.stop_after_steps))
      stopping = true;
    while (!stopping && !idle.empty() && !out_of_time() && (!sync || dispatched_in_batch < batch)) {
      const std::optional<Trial> t = next_trial();
      if (!t) break;
      begin_trial(*t);
      const Candidate c = candidate(t->id, t->candidate);
      cluster.send(idle.back(), trial_job(t->id, c.arch, c.hp, trial_epochs(*t)));
      idle.pop_back();
      in_flight.emplace(t->id, *t);
      ++dispatched_in_batch;
    }
    if (in_flight.empty()) break;
    const auto [worker, message] = cluster.receive_any();
    const TrialReport r = trial_report_from_json(message);
    idle.push_back(worker);
    const auto it = in_flight.find(r.trial);
    FUSENAS_CHECK(it != in_flight.end(), "worker {} reported trial {}, which it was not running",
                  worker, r.trial);
    if (!r.outcome.finished && r.failure.empty()) {
      // Cut short by a signal: the trial stays running in the database and a resume runs it again.
      stopping = true;
      in_flight.erase(it);
    } else if (!sync) {
      record(it->second, r);
      in_flight.erase(it);
    } else {
      arrived.emplace(r.trial, r);
    }
    if (sync && !arrived.empty() && arrived.size() == in_flight.size()) {
      // The batch is complete: tell it in trial order, as one process would have.
      for (const auto& [id, report] : arrived) record(in_flight.at(id), report);
      arrived.clear();
      in_flight.clear();
      dispatched_in_batch = 0;
    }
  }
  if (stopping) {
    save_checkpoint(false);
    log_.line(fmt::format("stopped after {} trials; continue with --resume {}",
                          result(false).trials, run_.path()));
    return false;
  }
  if (out_of_time())
    log_.line(fmt::format("the {}-minute budget is spent", config_.budget_minutes));
  return true;
}

BlackBoxResult blackbox_search(const BlackBoxConfig& config, const BlackBoxOptions& options) {
  return start_run<BlackBoxSearcher>(config, options, "search");
}

BlackBoxResult blackbox_resume(const std::string& run_dir, const BlackBoxOptions& options) {
  return resume_run<BlackBoxSearcher>(run_dir, options, "search", &blackbox_config_from_json);
}

}  // namespace fusenas::nas
