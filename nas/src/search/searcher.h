// The black-box search run behind blackbox_search()/blackbox_resume(): the space(s), the
// strategy of each stage, the trial database, the trial loop and the files a search leaves.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/device.h"
#include "fusenas/nas/estimate/hyperband.h"
#include "fusenas/nas/estimate/one_shot.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/stop_signal.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/search/search.h"
#include "fusenas/nas/space/hp_space.h"
#include "fusenas/nas/space/joint_space.h"
#include "fusenas/nas/strategy/reinforce_strategy.h"
#include "fusenas/nas/strategy/strategy.h"
#include "morph_evolution.h"
#include "trial_trainer.h"

namespace fusenas::nas {

class BlackBoxSearcher {
 public:
  // `config` must be resolved and valid.
  BlackBoxSearcher(const BlackBoxConfig& config, const BlackBoxOptions& options,
                   const std::string& run_dir);
  // Nothing to load beyond the trial database, which run() opens (a resumed search replays it).
  void restore() {}
  BlackBoxResult run();

 private:
  // What one trial trains: the architecture and its hyperparameters, from a strategy's point.
  struct Candidate {
    space::Point arch;
    space::Hyperparameters hp;
  };
  bool in_hp_stage(int64_t trial_id) const { return trial_id > config_.architecture_trials(); }
  Candidate candidate(int64_t trial_id, const space::Point& point) const;
  // The stage's strategy, made when its first trial is asked or replayed.
  strategy::Strategy& stage_strategy(int64_t trial_id);
  void replay();
  // The next trial to run: a pending one (left by a killed process) or a newly asked one; none
  // when the budget is spent.
  std::optional<Trial> next_trial();
  // Trains it and records the outcome; false when a stop signal cut it short.
  bool run_trial(const Trial& t);
  // The parts of a trial around its training: marks it running and logs it; records its
  // outcome in the database and tells its strategy.
  void begin_trial(const Trial& t);
  void record_trial(const Trial& t, const TrialOutcome& outcome, int64_t params,
                    const std::string& failure, double wall);
  strategy::Strategy* trial_strategy(const Trial& t);
  void log_controller_update(const strategy::Strategy* s);
  std::string trial_label(const Trial& t) const;
  std::optional<double> told_score(const Trial& t) const;
  double done_score(const std::vector<nlohmann::json>& curve, double final_score) const;
  // Under mpirun: keeps every worker rank training a trial (or, with --parallel sync, runs
  // batches of trials and tells them in id order) until the budget is spent; false when a stop
  // signal came first. Sends every worker its quit message before it returns or throws.
  bool run_parallel(const StopSignal& stop);
  bool run_on_workers(const StopSignal& stop);
  // One trial after another in this process until the budget is spent; false when a stop signal
  // came first (the run is then resumable).
  bool run_sequential(const StopSignal& stop);
  TrialOutcome train_candidate(const Trial& t, const Candidate& c, const MorphPlan& morph,
                               int64_t& params);
  // --estimator hyperband / successive-halving: the next job of the current Hyperband iteration,
  // a new iteration once one has finished.
  estimate::Job next_job();
  void replay_hyperband();
  // Hyperband's strategy of the trials that train `epochs` epochs (a model per budget, as BOHB
  // keeps), and the budget whose strategy proposes the next new configuration.
  strategy::Strategy& budget_strategy(int epochs);
  int model_epochs() const;
  // --estimator one-shot: trains the supernet (or loads it from the run folder) before the first
  // trial; false when a stop signal came first (its position is saved).
  bool prepare_one_shot(const StopSignal& stop);
  // The fidelity a new trial records: the config's, the current Hyperband job's, a morphism
  // child's plan, and the budget whose strategy proposed a new Hyperband configuration.
  nlohmann::json fidelity(const MorphPlan* morph, std::optional<int> model_epochs) const;
  int trial_epochs(const Trial& t) const;
  // --estimator curve: after an epoch, the prediction that stops the trial, or null.
  nlohmann::json curve_prune_check(const std::vector<nlohmann::json>& curve) const;
  double spent_seconds() const;
  bool out_of_time() const;
  void save_checkpoint(bool finished) const;
  void write_outputs() const;
  BlackBoxResult result(bool finished) const;

  BlackBoxConfig config_;
  BlackBoxOptions options_;
  Device device_;
  data::Dataset data_;
  RunDir run_;
  RunLog log_;
  space::ImageShape shape_;

  std::shared_ptr<space::ArchSpace> arch_space_;
  std::shared_ptr<space::HpSpace> hp_space_;
  std::shared_ptr<space::JointSpace> joint_space_;  // hpo == "joint"
  std::unique_ptr<strategy::Strategy> arch_strategy_, hp_strategy_;
  space::Point tuned_arch_;  // hpo == "after": the architecture whose hyperparameters are tuned
  std::optional<TrialDb> db_;
  // Hyperband: the scheduler of the current iteration, that iteration's number (from 1), the
  // point of each of its configurations (by config id), and the job of the trial to run next.
  std::optional<estimate::HyperbandScheduler> scheduler_;
  int hb_iteration_ = 0;
  std::vector<space::Point> hb_points_;
  std::optional<estimate::Job> job_;
  std::map<int, std::unique_ptr<strategy::Strategy>> budget_strategies_;
  // --estimator morphism: plans each trial instead of the strategy (which it does not ask).
  std::unique_ptr<MorphEvolution> morph_;
  // --estimator one-shot: the trained supernet and the search-val batches it scores on.
  std::unique_ptr<estimate::OneShotEstimator> one_shot_;
  std::vector<data::Batch> one_shot_val_;
  // --estimator tapas: the predictor and the query of this search's data and fidelity.
  std::optional<estimate::tapas::Predictor> predictor_;
  estimate::tapas::Query query_;
  const StopSignal* stop_ = nullptr;
  int64_t logged_updates_ = 0;  // rl: controller updates already in the log (replayed ones too)
};

}  // namespace fusenas::nas
