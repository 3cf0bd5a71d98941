// The training run's body in the run skeleton: an SGD step per batch, the test-set evaluation at
// each epoch's end, metrics and log lines.
#include <fmt/format.h>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/setup.h"
#include "trainer_impl.h"

namespace fusenas::nas {

double Trainer::drop_prob() const {
  return config_.drop_path * runner_->epoch() / config_.epochs;
}

TrainResult Trainer::result() const {
  TrainResult r;
  r.run_dir = run_.path();
  r.finished = runner_->finished();
  r.epochs_done = runner_->epoch();
  r.test_acc = last_test_acc_;
  r.test_loss = last_test_loss_;
  r.params = net_.params;
  return r;
}

TrainResult Trainer::run() {
  log_.line(fmt::format("nas_train: {} on {} ({} train / {} test images), device {}, {} threads",
                        describe_architecture(config_), config_.data.dataset,
                        train_loader_->num_samples(), test_loader_->num_samples(), device_.str(),
                        num_threads()));
  log_.line(fmt::format("params: {} ({:.3f}M{}); run folder {}", net_.params, net_.params / 1e6,
                        net_.cells ? ", auxiliary head excluded" : "", run_.path()));
  if (!config_.is_genotype_network()) {
    // The architecture beside the weights, in the files an ENAS run leaves (nas_report reads them).
    run_.write_json("arch.json", config_.space_arch);
    run_.write_text("arch.txt", space_architecture_text(config_) + "\n");
  }
  if (!runner_->run()) return result();
  const TrainResult r = result();
  nlohmann::json result = {{"test_acc", r.test_acc},
                           {"test_loss", r.test_loss},
                           {"epochs", r.epochs_done},
                           {"params", r.params}};
  if (config_.is_genotype_network()) {
    result["genotype"] = config_.genotype_text;
  } else {
    result["space"] = config_.space;
    result["arch"] = config_.space_arch;
  }
  run_.write_json("result.json", result);
  log_.line(fmt::format("final test accuracy: {:.2f}%", r.test_acc));
  return r;
}

void Trainer::begin_phase(size_t) {
  net_.module->train();
}

int64_t Trainer::run_step(size_t) {
  const data::Batch batch = train_loader_->next();
  const int epoch = runner_->epoch();
  const int64_t step = runner_->steps_done(0);
  FUSENAS_CHECK(batch.epoch == epoch && batch.batch == step,
                "train loader is at epoch {} batch {}, the run at epoch {} batch {}", batch.epoch,
                batch.batch, epoch, step);
  const Tensor x = device_.is_cpu() ? batch.images : batch.images.to(device_);
  const Tensor y = device_.is_cpu() ? batch.labels : batch.labels.to(device_);
  optimizer_->zero_grad();
  const EvalNetwork::Output out = net_.forward_train(x, drop_prob(), drop_gen_);
  Tensor loss = cross_entropy(out.logits, y);
  if (config_.auxiliary > 0)
    loss = add(loss, scale(cross_entropy(out.aux_logits, y), config_.auxiliary));
  loss.backward();
  if (config_.sgd.grad_clip > 0) optim::clip_grad_norm_on_device(params_, config_.sgd.grad_clip);
  optimizer_->step();
  runner_->step_stats().add(loss, out.logits, batch.labels, Tensor(), 0,
                            {epoch + 1, step + 1, optimizer_->lr()});
  return batch.labels.size(0);
}

std::string Trainer::progress_text(size_t) const {
  const EpochTotals& t = runner_->totals();
  return fmt::format("loss {:.4f} acc {:.2f}%", t.mean_loss(), t.accuracy());
}

bool Trainer::end_epoch(const std::function<bool()>& stopping) {
  net_.module->eval();
  const EvalResult test = evaluate_classifier(
      *test_loader_, device_, [&](const Tensor& x) { return net_.module->forward(x); }, stopping,
      options_.progress, "test");
  net_.module->train();
  if (test.aborted) return false;
  const EpochTotals& totals = runner_->totals();
  const int epoch = runner_->epoch();
  check_finite(test.loss, "the test loss", {epoch + 1, 0, optimizer_->lr()});
  const double seconds = totals.train_seconds + test.seconds;
  const double rate = totals.train_seconds > 0 ? totals.seen / totals.train_seconds : 0;
  const data::LoaderStats wait = train_loader_->stats();
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch + 1},
                                      {"train_loss", totals.mean_loss()},
                                      {"train_acc", totals.accuracy()},
                                      {"test_loss", test.loss},
                                      {"test_acc", test.acc},
                                      {"lr", optimizer_->lr()},
                                      {"drop_path", drop_prob()},
                                      {"seconds", seconds},
                                      {"train_seconds", totals.train_seconds},
                                      {"images_per_s", rate},
                                      {"loader_wait_s", wait.wait_seconds}});
  log_.line(
      fmt::format("epoch {}/{}  train loss {:.4f} acc {:.2f}%  test loss {:.4f} acc "
                  "{:.2f}%  lr {:.6f}  {:.1f} s ({:.0f} img/s)",
                  epoch + 1, config_.epochs, totals.mean_loss(), totals.accuracy(), test.loss,
                  test.acc, optimizer_->lr(), seconds, rate));
  last_test_acc_ = test.acc;
  last_test_loss_ = test.loss;
  scheduler_->step();
  train_loader_->reset_stats();
  return true;
}

}  // namespace fusenas::nas
