// The search loop: epochs of (architect step, weight step) pairs, evaluation on the search-val
// split, metrics, alphas, the current genotype and its pictures, and stopping at a step boundary.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/darts/artifacts.h"
#include "fusenas/nas/darts/search_step.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/progress.h"
#include "fusenas/nas/run/setup.h"
#include "searcher.h"

namespace fusenas::nas {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

nlohmann::json rows_json(const Tensor& w) {
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t e = 0; e < w.size(0); ++e) {
    std::vector<double> row;
    for (int64_t k = 0; k < w.size(1); ++k) row.push_back(w.at({e, k}));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

int64_t DartsSearcher::global_step() const {
  return static_cast<int64_t>(epoch_) * train_loader_->batches_per_epoch() + batch_;
}

bool DartsSearcher::stopping(const StopSignal& stop) const {
  return stop.requested() ||
         (options_.stop_after_steps > 0 && global_step() >= options_.stop_after_steps);
}

Tensor DartsSearcher::on_device(const Tensor& t) const {
  return device_.is_cpu() ? t : t.to(device_);
}

DartsResult DartsSearcher::result() const {
  DartsResult r;
  r.run_dir = run_.path();
  r.finished = epoch_ >= config_.epochs;
  r.epochs_done = epoch_;
  r.val_acc = last_val_acc_;
  r.genotype = net_->genotype();
  r.train_command = nas_train_command(run_.path() + "/genotype.txt", config_.dataset,
                                      config_.data_dir, config_.preset == "quick");
  return r;
}

DartsResult DartsSearcher::stopped(const char* where) {
  save_checkpoint();
  log_.line(
      fmt::format("stopped {} (epoch {}, step {}/{}); checkpoint saved, continue with --resume {}",
                  where, epoch_ + 1, batch_, train_loader_->batches_per_epoch(), run_.path()));
  return result();
}

DartsResult DartsSearcher::run() {
  const StopSignal stop;
  const int64_t per_epoch = train_loader_->batches_per_epoch();
  log_.line(fmt::format(
      "nas_darts: order {} on {} ({} search-train / {} search-val images), C={} cells={} "
      "nodes={} ops={}, batch {}, {} epochs, device {}, {} threads",
      config_.order, config_.dataset, train_loader_->num_samples(), val_loader_->num_samples(),
      config_.channels, config_.cells, config_.nodes, config_.ops.size(), config_.batch_size,
      config_.epochs, device_.str(), num_threads()));
  int64_t params = 0;
  for (const auto& p : net_->parameters()) params += p.numel();
  log_.line(fmt::format("supernet weights: {} ({:.3f}M); run folder {}", params, params / 1e6,
                        run_.path()));
  if (global_step() > 0 && epoch_ < config_.epochs)
    log_.line(fmt::format("resuming at epoch {}, step {}/{}", epoch_ + 1, batch_, per_epoch));
  while (epoch_ < config_.epochs) {
    if (batch_ < per_epoch && !train_epoch(stop)) return stopped("during the search");
    const EvalResult val = evaluate(stop);
    if (val.aborted) return stopped("during evaluation");
    end_epoch(val);
    if (stopping(stop) && epoch_ < config_.epochs) return stopped("at the end of an epoch");
  }
  write_artifacts(true);
  if (graphs_) {
    log_.line(fmt::format("CUDA graphs: {} captured, {} steps replayed (--eager turns them off)",
                          graphs_->captures(), graphs_->replays()));
  }
  const DartsResult r = result();
  run_.write_json("result.json", {{"val_acc", r.val_acc},
                                  {"epochs", r.epochs_done},
                                  {"genotype", r.genotype.to_text()},
                                  {"train_command", r.train_command}});
  log_.line(fmt::format("genotype: {}", r.genotype.to_text()));
  log_.line(fmt::format(
      "run folder {}: genotype.txt/.json, normal.dot/reduce.dot{}, alphas_normal.svg, "
      "alphas_reduce.svg, alphas.jsonl, metrics.jsonl, search.log",
      run_.path(), std::filesystem::exists(run_.file("normal.svg")) ? " (+ .svg/.png)" : ""));
  log_.line("train it: " + r.train_command);
  return r;
}

SearchStepResult DartsSearcher::search_step(const data::Batch& train, const data::Batch& val) {
  const bool full_batches =
      train.labels.size(0) == config_.batch_size && val.labels.size(0) == config_.batch_size;
  if (!graphs_ || !full_batches) {
    // A short last batch would need a graph of its own: it runs eagerly.
    return darts_search_step(*net_, *architect_, *optimizer_, config_.grad_clip,
                             on_device(train.images), on_device(train.labels),
                             on_device(val.images), on_device(val.labels), !warming_up());
  }
  const bool update_alphas = !warming_up();
  const std::vector<Tensor> out =
      graphs_->run({train.images, train.labels, val.images, val.labels}, update_alphas ? 1 : 0,
                   [&](const std::vector<Tensor>& in) {
                     const SearchStepResult r =
                         darts_search_step(*net_, *architect_, *optimizer_, config_.grad_clip,
                                           in[0], in[1], in[2], in[3], update_alphas);
                     return std::vector<Tensor>{r.train_loss, r.logits, r.val_loss};
                   });
  SearchStepResult r;
  r.train_loss = out[0];
  r.logits = out[1];
  r.val_loss = out[2];
  return r;
}

bool DartsSearcher::train_epoch(const StopSignal& stop) {
  const int64_t per_epoch = train_loader_->batches_per_epoch();
  const int64_t first = batch_;
  // Second order's virtual step uses the lr as a host scalar (xi), which a graph bakes in: the
  // cosine schedule changes it every epoch, so each epoch captures afresh. The warm-up's graph
  // (no architect) is not needed after the warm-up.
  if (graphs_ && (config_.order == 2 || epoch_ == config_.warmup_epochs)) graphs_->clear();
  Progress bar(fmt::format("epoch {}/{}", epoch_ + 1, config_.epochs), per_epoch - first, "step");
  while (batch_ < per_epoch) {
    const auto t0 = Clock::now();
    const data::Batch tb = train_loader_->next();
    const data::Batch vb = val_loader_->next();
    FUSENAS_CHECK(tb.epoch == epoch_ && tb.batch == batch_,
                  "train loader is at epoch {} batch {}, the search at epoch {} step {}", tb.epoch,
                  tb.batch, epoch_, batch_);
    const SearchStepResult step = search_step(tb, vb);
    step_stats_.add(step.train_loss, step.logits, tb.labels, step.val_loss, vb.labels.size(0),
                    {epoch_ + 1, batch_ + 1, optimizer_->lr()});
    totals_.seen += tb.labels.size(0);
    // Without a sync per step this times the host's issue rate; the drains and the epoch's
    // evaluation wait for the device, so the epoch total stays honest.
    totals_.train_seconds += seconds_since(t0);
    ++batch_;
    if (options_.progress && bar.due(batch_ - first)) {
      step_stats_.drain_into(totals_);
      bar.update(batch_ - first, batch_ - first,
                 fmt::format("loss {:.4f} acc {:.2f}% {}", totals_.loss_sum / totals_.seen,
                             100.0 * totals_.correct / totals_.seen,
                             warming_up() ? std::string("warm-up (alphas frozen)")
                                          : fmt::format("val loss {:.4f}",
                                                        totals_.val_loss_sum / totals_.seen)));
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

EvalResult DartsSearcher::evaluate(const StopSignal& stop) {
  net_->eval();
  const EvalResult r = evaluate_classifier(
      *eval_loader_, device_, [&](const Tensor& x) { return net_->forward_mixed(x, false); },
      [&] { return stopping(stop); }, options_.progress, "search-val");
  net_->train();
  return r;
}

void DartsSearcher::end_epoch(const EvalResult& val) {
  const double train_loss = totals_.loss_sum / totals_.seen;
  const double train_acc = 100.0 * totals_.correct / totals_.seen;
  // A warm-up epoch has no architect steps, hence no architect validation loss.
  const nlohmann::json arch_val_loss =
      warming_up() ? nlohmann::json() : nlohmann::json(totals_.val_loss_sum / totals_.seen);
  const RunPoint at{epoch_ + 1, 0, optimizer_->lr()};
  check_finite(val.loss, "the search-val loss", at);
  for (const Tensor& w : {net_->normal_weights(), net_->reduce_weights()})
    check_finite(sum(w.detach()).item(), "an architecture weight", at);
  const double seconds = totals_.train_seconds + val.seconds;
  const double step_s = totals_.train_seconds / train_loader_->batches_per_epoch();
  const Genotype g = net_->genotype();
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch_ + 1},
                                      {"train_loss", train_loss},
                                      {"train_acc", train_acc},
                                      {"arch_val_loss", arch_val_loss},
                                      {"val_loss", val.loss},
                                      {"val_acc", val.acc},
                                      {"lr", optimizer_->lr()},
                                      {"seconds", seconds},
                                      {"step_seconds", step_s},
                                      {"genotype", g.to_text()}});
  run_.append_jsonl("alphas.jsonl", {{"epoch", epoch_ + 1},
                                     {"ops", config_.ops},
                                     {"normal", rows_json(net_->normal_weights())},
                                     {"reduce", rows_json(net_->reduce_weights())}});
  log_.line(fmt::format(
      "epoch {}/{}  train loss {:.4f} acc {:.2f}%  val loss {:.4f} acc {:.2f}%  lr {:.6f}  "
      "{:.1f} s ({:.2f} s/step){}",
      epoch_ + 1, config_.epochs, train_loss, train_acc, val.loss, val.acc, optimizer_->lr(),
      seconds, step_s, warming_up() ? "  warm-up: alphas frozen" : ""));
  log_.line(fmt::format("  genotype {}", g.to_text()));
  last_val_acc_ = val.acc;
  scheduler_->step();
  ++epoch_;
  batch_ = 0;
  totals_ = {};
  write_artifacts(false);
  save_checkpoint();
}

void DartsSearcher::write_artifacts(bool render) const {
  const Genotype g = net_->genotype();
  run_.write_text("genotype.txt", g.to_text() + "\n");
  run_.write_text("genotype.json", g.to_json() + "\n");
  run_.write_text("normal.dot", cell_to_dot(g.normal, g.normal_concat, "normal cell"));
  run_.write_text("reduce.dot", cell_to_dot(g.reduce, g.reduce_concat, "reduction cell"));
  std::vector<std::vector<std::vector<double>>> normal, reduce;
  std::ifstream in(run_.file("alphas.jsonl"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    normal.push_back(j.at("normal").get<std::vector<std::vector<double>>>());
    reduce.push_back(j.at("reduce").get<std::vector<std::vector<double>>>());
  }
  run_.write_text("alphas_normal.svg",
                  alpha_heatmap_svg(normal, config_.ops, config_.nodes, "normal cell"));
  run_.write_text("alphas_reduce.svg",
                  alpha_heatmap_svg(reduce, config_.ops, config_.nodes, "reduction cell"));
  if (render) {
    render_dot(run_.file("normal.dot"));
    render_dot(run_.file("reduce.dot"));
  }
}

}  // namespace fusenas::nas
