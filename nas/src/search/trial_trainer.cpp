// One black-box trial trained in the run skeleton: SGD steps, the search-val evaluation per epoch,
// the learning curve.
#include "trial_trainer.h"

#include <fmt/format.h>

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/wall_clock.h"
#include "fusenas/nas/space/model_scale.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kInitStream = 0x696e6974ULL;  // "init": a trial's weights

}  // namespace

std::shared_ptr<space::Network> build_trial_network(const BlackBoxConfig& config,
                                                    const space::ArchSpace& space,
                                                    const space::Point& arch,
                                                    const space::ImageShape& shape,
                                                    int64_t trial_id) {
  Generator init(data::mix_seed(config.seed, kInitStream, static_cast<uint64_t>(trial_id)));
  if (config.estimator.model_scale < 1) {
    const space::ScaledModel m =
        space::scale_model(config.space, config.space_options, arch, config.estimator.model_scale);
    return m.space->build(m.point, shape, init);
  }
  return space.build(arch, shape, init);
}

TrialTrainer::TrialTrainer(const data::Dataset& data, const BlackBoxConfig& config,
                           std::shared_ptr<space::Network> net, const space::Hyperparameters& hp,
                           TrialPlan plan, Device device, RunLog& log, const std::string& run_path,
                           bool progress, std::function<void(const nlohmann::json&)> on_epoch)
    : config_(config),
      net_(std::move(net)),
      plan_(std::move(plan)),
      device_(device),
      loaders_(make_search_loaders(data, config.search_data(hp.batch_size))),
      on_epoch_(std::move(on_epoch)) {
  if (!device_.is_cpu()) net_->to(device_);
  params_ = net_->parameters();
  optimizer_ = std::make_unique<optim::SGD>(params_, hp.lr, hp.momentum, hp.weight_decay,
                                            /*nesterov=*/false);
  // A searched lr may lie below the configured floor: the schedule then stays flat.
  scheduler_ = std::make_unique<optim::CosineAnnealingLR>(*optimizer_, plan_.epochs,
                                                          std::min(config.sgd.lr_min, hp.lr));
  Phase training("training", "batch", "batch", loaders_.train->batches_per_epoch());
  training.unit = "img";
  runner_ =
      std::make_unique<EpochRunner>(static_cast<RunBody&>(*this), std::vector<Phase>{training},
                                    plan_.epochs, run_path, log, progress, /*stop_after_steps=*/0);
}

TrialOutcome TrialTrainer::run() {
  started_ = WallClock::now();
  net_->train();
  outcome_.finished = runner_->run();
  return outcome_;
}

Tensor TrialTrainer::network_input(const Tensor& images) const {
  const Tensor x = device_.is_cpu() ? images : images.to(device_);
  if (plan_.downscale == 1) return x;
  const NoGradGuard no_grad;
  return avg_pool2d(x, plan_.downscale, plan_.downscale, 0);
}

int64_t TrialTrainer::run_step(size_t) {
  const data::Batch batch = loaders_.train->next();
  // Checked once a step: a trial stuck in a network far slower than the rest ends as failed.
  if (config_.trial_time_limit > 0 && seconds_since(started_) > config_.trial_time_limit) {
    FUSENAS_FAIL("timed out after {:.0f} s (trial time limit {:g} s)", seconds_since(started_),
                 config_.trial_time_limit);
  }
  const Tensor x = network_input(batch.images);
  const Tensor y = device_.is_cpu() ? batch.labels : batch.labels.to(device_);
  optimizer_->zero_grad();
  const Tensor logits = net_->forward(x);
  Tensor loss = cross_entropy(logits, y);
  loss.backward();
  if (config_.sgd.grad_clip > 0) optim::clip_grad_norm_on_device(params_, config_.sgd.grad_clip);
  optimizer_->step();
  runner_->step_stats().add(loss, logits, batch.labels, Tensor(), 0,
                            {runner_->epoch() + 1, runner_->steps_done(0) + 1, optimizer_->lr()});
  return batch.labels.size(0);
}

std::string TrialTrainer::progress_text(size_t) const {
  const EpochTotals& t = runner_->totals();
  return fmt::format("loss {:.4f} acc {:.2f}%", t.mean_loss(), t.accuracy());
}

bool TrialTrainer::end_epoch(const std::function<bool()>& stopping) {
  net_->eval();
  const EvalResult val = evaluate_classifier(
      *loaders_.eval, device_, [&](const Tensor& x) { return net_->forward(network_input(x)); },
      stopping,
      /*progress=*/false, "search-val");
  net_->train();
  if (val.aborted) return false;
  const EpochTotals& t = runner_->totals();
  const int epoch = runner_->epoch();
  check_finite(val.loss, "the search-val loss", {epoch + 1, 0, optimizer_->lr()});
  const nlohmann::json m = {{"epoch", epoch + 1},
                            {"train_loss", t.mean_loss()},
                            {"train_acc", t.accuracy()},
                            {"val_loss", val.loss},
                            {"val_acc", val.acc},
                            {"lr", optimizer_->lr()},
                            {"seconds", t.train_seconds + val.seconds}};
  outcome_.curve.push_back(m);
  outcome_.val_acc = val.acc;
  outcome_.val_loss = val.loss;
  outcome_.train_acc = t.accuracy();
  outcome_.train_loss = t.mean_loss();
  if (on_epoch_) on_epoch_(m);
  scheduler_->step();
  if (plan_.prune_check && epoch + 1 < plan_.epochs) {
    outcome_.pruned = plan_.prune_check(outcome_.curve);
    if (!outcome_.pruned.is_null()) runner_->end_early();
  }
  return true;
}

}  // namespace fusenas::nas
