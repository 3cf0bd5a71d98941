// The training loop: epochs of SGD steps, evaluation on the test set, metrics and log lines, and
// stopping at a batch boundary when a signal (or the test hook) asks for it.
#include <fmt/format.h>

#include <chrono>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/progress.h"
#include "fusenas/nas/run/setup.h"
#include "trainer_impl.h"

namespace fusenas::nas {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int64_t Trainer::global_step() const {
  return static_cast<int64_t>(epoch_) * train_loader_->batches_per_epoch() + batch_;
}

double Trainer::drop_prob() const {
  return config_.drop_path * epoch_ / config_.epochs;
}

bool Trainer::stopping(const StopSignal& stop) const {
  return stop.requested() ||
         (options_.stop_after_steps > 0 && global_step() >= options_.stop_after_steps);
}

TrainResult Trainer::result() const {
  TrainResult r;
  r.run_dir = run_.path();
  r.finished = epoch_ >= config_.epochs;
  r.epochs_done = epoch_;
  r.test_acc = last_test_acc_;
  r.test_loss = last_test_loss_;
  r.params = net_->num_parameters();
  return r;
}

TrainResult Trainer::stopped(const char* where) {
  save_checkpoint();
  log_.line(
      fmt::format("stopped {} (epoch {}, batch {}/{}); checkpoint saved, continue with "
                  "--resume {}",
                  where, epoch_ + 1, batch_, train_loader_->batches_per_epoch(), run_.path()));
  return result();
}

TrainResult Trainer::run() {
  const StopSignal stop;
  const int64_t per_epoch = train_loader_->batches_per_epoch();
  log_.line(fmt::format(
      "nas_train: {} C={} layers={} on {} ({} train / {} test images), device {}, {} threads",
      config_.genotype_file.empty() ? config_.arch : config_.genotype_file, config_.init_channels,
      config_.layers, config_.dataset, train_loader_->num_samples(), test_loader_->num_samples(),
      device_.str(), num_threads()));
  log_.line(fmt::format("params: {} ({:.3f}M, auxiliary head excluded); run folder {}",
                        net_->num_parameters(), net_->num_parameters() / 1e6, run_.path()));
  if (global_step() > 0 && epoch_ < config_.epochs)
    log_.line(fmt::format("resuming at epoch {}, batch {}/{}", epoch_ + 1, batch_, per_epoch));
  while (epoch_ < config_.epochs) {
    if (batch_ < per_epoch && !train_epoch(stop)) return stopped("during training");
    const EvalResult test = evaluate(stop);
    if (test.aborted) return stopped("during evaluation");
    end_epoch(test);
    if (stopping(stop) && epoch_ < config_.epochs) return stopped("at the end of an epoch");
  }
  const TrainResult r = result();
  run_.write_json("result.json", {{"test_acc", r.test_acc},
                                  {"test_loss", r.test_loss},
                                  {"epochs", r.epochs_done},
                                  {"params", r.params},
                                  {"genotype", config_.genotype_text}});
  log_.line(fmt::format("final test accuracy: {:.2f}%", r.test_acc));
  return r;
}

bool Trainer::train_epoch(const StopSignal& stop) {
  const int64_t per_epoch = train_loader_->batches_per_epoch();
  const int64_t first = batch_;
  const double p = drop_prob();
  const std::vector<Tensor> params = net_->parameters();
  Progress bar(fmt::format("epoch {}/{}", epoch_ + 1, config_.epochs), per_epoch - first, "img");
  int64_t images = 0;
  net_->train();
  while (batch_ < per_epoch) {
    const auto t0 = Clock::now();
    const data::Batch batch = train_loader_->next();
    FUSENAS_CHECK(batch.epoch == epoch_ && batch.batch == batch_,
                  "train loader is at epoch {} batch {}, the run at epoch {} batch {}", batch.epoch,
                  batch.batch, epoch_, batch_);
    const Tensor x = device_.is_cpu() ? batch.images : batch.images.to(device_);
    const Tensor y = device_.is_cpu() ? batch.labels : batch.labels.to(device_);
    optimizer_->zero_grad();
    const EvalNetwork::Output out = net_->forward_full(x, p, drop_gen_);
    Tensor loss = cross_entropy(out.logits, y);
    if (config_.auxiliary > 0)
      loss = add(loss, scale(cross_entropy(out.aux_logits, y), config_.auxiliary));
    loss.backward();
    if (config_.grad_clip > 0) optim::clip_grad_norm_on_device(params, config_.grad_clip);
    optimizer_->step();

    const int64_t n = batch.labels.size(0);
    step_stats_.add(loss, out.logits, batch.labels, Tensor(), 0,
                    {epoch_ + 1, batch_ + 1, optimizer_->lr()});
    totals_.seen += n;
    totals_.train_seconds += seconds_since(t0);
    images += n;
    ++batch_;
    if (options_.progress && bar.due(batch_ - first)) {
      step_stats_.drain_into(totals_);
      bar.update(batch_ - first, images,
                 fmt::format("loss {:.4f} acc {:.2f}%", totals_.loss_sum / totals_.seen,
                             100.0 * totals_.correct / totals_.seen));
    }
    if (stopping(stop)) {
      step_stats_.drain_into(totals_);
      if (options_.progress) bar.finish();
      return false;
    }
  }
  step_stats_.drain_into(totals_);
  if (options_.progress) bar.finish();
  return true;
}

EvalResult Trainer::evaluate(const StopSignal& stop) {
  net_->eval();
  const EvalResult r = evaluate_classifier(
      *test_loader_, device_, [&](const Tensor& x) { return net_->forward(x); },
      [&] { return stopping(stop); }, options_.progress, "test");
  net_->train();
  return r;
}

void Trainer::end_epoch(const EvalResult& test) {
  const double train_loss = totals_.loss_sum / totals_.seen;
  const double train_acc = 100.0 * totals_.correct / totals_.seen;
  check_finite(test.loss, "the test loss", {epoch_ + 1, 0, optimizer_->lr()});
  const double seconds = totals_.train_seconds + test.seconds;
  const double rate = totals_.train_seconds > 0 ? totals_.seen / totals_.train_seconds : 0;
  const data::LoaderStats wait = train_loader_->stats();
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch_ + 1},
                                      {"train_loss", train_loss},
                                      {"train_acc", train_acc},
                                      {"test_loss", test.loss},
                                      {"test_acc", test.acc},
                                      {"lr", optimizer_->lr()},
                                      {"drop_path", drop_prob()},
                                      {"seconds", seconds},
                                      {"train_seconds", totals_.train_seconds},
                                      {"images_per_s", rate},
                                      {"loader_wait_s", wait.wait_seconds}});
  log_.line(
      fmt::format("epoch {}/{}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc "
                  "{:.2f}%  lr {:.6f}  {:.1f} s ({:.0f} img/s)",
                  epoch_ + 1, config_.epochs, train_loss, train_acc, test.loss, test.acc,
                  optimizer_->lr(), seconds, rate));
  last_test_acc_ = test.acc;
  last_test_loss_ = test.loss;
  scheduler_->step();
  ++epoch_;
  batch_ = 0;
  totals_ = {};
  train_loader_->reset_stats();
  save_checkpoint();
}

}  // namespace fusenas::nas
