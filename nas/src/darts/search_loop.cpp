// The DARTS search's body in the run skeleton: (architect step, weight step) pairs, evaluation on
// the search-val split, metrics, alphas, the current genotype and its pictures.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/darts/search_step.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/space/artifacts.h"
#include "searcher.h"

namespace fusenas::nas {
namespace {

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

Tensor DartsSearcher::on_device(const Tensor& t) const {
  return device_.is_cpu() ? t : t.to(device_);
}

DartsResult DartsSearcher::result() const {
  DartsResult r;
  r.run_dir = run_.path();
  r.finished = runner_->finished();
  r.epochs_done = runner_->epoch();
  r.val_acc = last_val_acc_;
  r.genotype = net_->genotype();
  r.train_command = nas_train_command(run_.path() + "/genotype.txt", config_.data.dataset,
                                      config_.data.data_dir, config_.preset == "quick");
  return r;
}

DartsResult DartsSearcher::run() {
  log_.line(fmt::format(
      "nas_darts: order {} on {} ({} search-train / {} search-val images), C={} cells={} "
      "nodes={} ops={}, batch {}, {} epochs, device {}, {} threads",
      config_.order, config_.data.dataset, train_loader_->num_samples(), val_loader_->num_samples(),
      config_.supernet.channels, config_.supernet.cells, config_.supernet.nodes,
      (*config_.supernet.ops).size(), config_.batch_size, config_.epochs, device_.str(),
      num_threads()));
  int64_t params = 0;
  for (const auto& p : net_->parameters()) params += p.numel();
  log_.line(fmt::format("supernet weights: {} ({:.3f}M); run folder {}", params, params / 1e6,
                        run_.path()));
  if (!runner_->run()) return result();
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
    return darts_search_step(*net_, *architect_, *optimizer_, config_.sgd.grad_clip,
                             on_device(train.images), on_device(train.labels),
                             on_device(val.images), on_device(val.labels), !warming_up());
  }
  const bool update_alphas = !warming_up();
  const std::vector<Tensor> out =
      graphs_->run({train.images, train.labels, val.images, val.labels}, update_alphas ? 1 : 0,
                   [&](const std::vector<Tensor>& in) {
                     const SearchStepResult r =
                         darts_search_step(*net_, *architect_, *optimizer_, config_.sgd.grad_clip,
                                           in[0], in[1], in[2], in[3], update_alphas);
                     return std::vector<Tensor>{r.train_loss, r.logits, r.val_loss};
                   });
  SearchStepResult r;
  r.train_loss = out[0];
  r.logits = out[1];
  r.val_loss = out[2];
  return r;
}

void DartsSearcher::begin_phase(size_t) {
  // Second order's virtual step uses the lr as a host scalar (xi), which a graph bakes in: the
  // cosine schedule changes it every epoch, so each epoch captures afresh. The warm-up's graph
  // (no architect) is not needed after the warm-up.
  if (graphs_ && (config_.order == 2 || runner_->epoch() == config_.warmup_epochs))
    graphs_->clear();
}

int64_t DartsSearcher::run_step(size_t) {
  const int epoch = runner_->epoch();
  const int64_t step = runner_->steps_done(0);
  const data::Batch tb = train_loader_->next();
  const data::Batch vb = val_loader_->next();
  FUSENAS_CHECK(tb.epoch == epoch && tb.batch == step,
                "train loader is at epoch {} batch {}, the search at epoch {} step {}", tb.epoch,
                tb.batch, epoch, step);
  const SearchStepResult r = search_step(tb, vb);
  runner_->step_stats().add(r.train_loss, r.logits, tb.labels, r.val_loss, vb.labels.size(0),
                            {epoch + 1, step + 1, optimizer_->lr()});
  return tb.labels.size(0);
}

std::string DartsSearcher::progress_text(size_t) const {
  const EpochTotals& t = runner_->totals();
  return fmt::format("loss {:.4f} acc {:.2f}% {}", t.mean_loss(), t.accuracy(),
                     warming_up() ? std::string("warm-up (alphas frozen)")
                                  : fmt::format("val loss {:.4f}", t.mean_val_loss()));
}

bool DartsSearcher::end_epoch(const std::function<bool()>& stopping) {
  net_->eval();
  const EvalResult val = evaluate_classifier(
      *eval_loader_, device_, [&](const Tensor& x) { return net_->forward_mixed(x, false); },
      stopping, options_.progress, "search-val");
  net_->train();
  if (val.aborted) return false;
  const EpochTotals& totals = runner_->totals();
  const int epoch = runner_->epoch();
  // A warm-up epoch has no architect steps, hence no architect validation loss.
  const nlohmann::json arch_val_loss =
      warming_up() ? nlohmann::json() : nlohmann::json(totals.mean_val_loss());
  const RunPoint at{epoch + 1, 0, optimizer_->lr()};
  check_finite(val.loss, "the search-val loss", at);
  for (const Tensor& w : {net_->normal_weights(), net_->reduce_weights()})
    check_finite(sum(w.detach()).item(), "an architecture weight", at);
  const double seconds = totals.train_seconds + val.seconds;
  const double step_s = totals.train_seconds / train_loader_->batches_per_epoch();
  const Genotype g = net_->genotype();
  run_.append_jsonl("metrics.jsonl", {{"epoch", epoch + 1},
                                      {"train_loss", totals.mean_loss()},
                                      {"train_acc", totals.accuracy()},
                                      {"arch_val_loss", arch_val_loss},
                                      {"val_loss", val.loss},
                                      {"val_acc", val.acc},
                                      {"lr", optimizer_->lr()},
                                      {"seconds", seconds},
                                      {"step_seconds", step_s},
                                      {"genotype", g.to_text()}});
  run_.append_jsonl("alphas.jsonl", {{"epoch", epoch + 1},
                                     {"ops", (*config_.supernet.ops)},
                                     {"normal", rows_json(net_->normal_weights())},
                                     {"reduce", rows_json(net_->reduce_weights())}});
  log_.line(fmt::format(
      "epoch {}/{}  train loss {:.4f} acc {:.2f}%  val loss {:.4f} acc {:.2f}%  lr {:.6f}  "
      "{:.1f} s ({:.2f} s/step){}",
      epoch + 1, config_.epochs, totals.mean_loss(), totals.accuracy(), val.loss, val.acc,
      optimizer_->lr(), seconds, step_s, warming_up() ? "  warm-up: alphas frozen" : ""));
  log_.line(fmt::format("  genotype {}", g.to_text()));
  last_val_acc_ = val.acc;
  scheduler_->step();
  write_artifacts(false);
  return true;
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
  run_.write_text("alphas_normal.svg", alpha_heatmap_svg(normal, (*config_.supernet.ops),
                                                         config_.supernet.nodes, "normal cell"));
  run_.write_text("alphas_reduce.svg", alpha_heatmap_svg(reduce, (*config_.supernet.ops),
                                                         config_.supernet.nodes, "reduction cell"));
  if (render) {
    render_dot(run_.file("normal.dot"));
    render_dot(run_.file("reduce.dot"));
  }
}

}  // namespace fusenas::nas
