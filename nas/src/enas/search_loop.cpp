// The ENAS search's body in the run skeleton: shared-weight training (a fresh child per minibatch)
// then controller steps (rewards on search-val batches), metrics and sampled architectures, and
// the final derivation.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"
#include "fusenas/nas/run/divergence.h"
#include "fusenas/nas/run/progress.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/run/wall_clock.h"
#include "fusenas/nas/space/artifacts.h"
#include "searcher.h"

namespace fusenas::nas::enas {
namespace {

constexpr uint64_t kDeriveStream = 0x646572ULL;  // "der"

nlohmann::json arch_json(const Arch& a) {
  return std::visit([](const auto& x) { return nlohmann::json::parse(x.to_json()); }, a);
}
std::string arch_text(const Arch& a) {
  return std::visit([](const auto& x) { return x.to_text(); }, a);
}
std::string arch_enas(const Arch& a) {
  return std::visit([](const auto& x) { return x.to_enas_string(); }, a);
}

}  // namespace

Tensor EnasSearcher::on_device(const Tensor& t) const {
  return device_.is_cpu() ? t : t.to(device_);
}

Tensor EnasSearcher::child_forward(const Tensor& x, const Arch& arch) {
  if (const auto* m = std::get_if<MicroArch>(&arch)) {
    const MicroChoice c = micro_choice(micro_space_, *m);
    return micro_net_->forward_sampled(x, c.normal, c.reduce);
  }
  return macro_net_->forward_sampled(x, std::get<MacroArch>(arch));
}

Arch EnasSearcher::sample_child(Generator& gen) {
  const NoGradGuard no_grad;
  return trainer_->controller().sample(gen).arch;
}

int64_t EnasSearcher::child_correct(const data::Batch& batch, const Arch& arch) {
  const NoGradGuard no_grad;
  if (config_.rewards_use_batch_statistics()) {
    child_->train();
  } else {
    child_->eval();
  }
  const int64_t correct = count_correct(child_forward(on_device(batch.images), arch), batch.labels);
  child_->train();
  return correct;
}

EnasResult EnasSearcher::run() {
  const int64_t per_epoch = train_loader_->batches_per_epoch();
  log_.line(fmt::format(
      "nas_enas: {} space on {} ({} search-train / {} search-val images), C={} {}={}{}, batch {}, "
      "{} epochs of {} shared steps + {} controller steps x {} samples, device {}, {} threads",
      config_.space, config_.data.dataset, train_loader_->num_samples(), val_loader_->num_samples(),
      config_.supernet.channels, config_.micro() ? "cells" : "layers", config_.supernet.cells,
      config_.micro() ? fmt::format(" nodes={}", config_.supernet.nodes) : "", config_.batch_size,
      config_.epochs, per_epoch, config_.controller_steps, config_.samples_per_step, device_.str(),
      num_threads()));
  int64_t params = 0;
  for (const auto& p : child_->parameters()) params += p.numel();
  log_.line(fmt::format("shared weights: {} ({:.3f}M); run folder {}", params, params / 1e6,
                        run_.path()));
  EnasResult r;
  r.run_dir = run_.path();
  if (!runner_->run()) {
    r.epochs_done = runner_->epoch();
    return r;
  }
  write_result(derive(), r);
  return r;
}

void EnasSearcher::begin_phase(size_t phase) {
  if (phase == 0) {
    optimizer_->set_lr(config_.lr_at(runner_->epoch()));
    child_->train();
  }
}

int64_t EnasSearcher::run_step(size_t phase) {
  if (phase == 1) {
    controller_step();
    return 0;
  }
  const int epoch = runner_->epoch();
  const int64_t step = runner_->steps_done(0);
  const data::Batch tb = train_loader_->next();
  FUSENAS_CHECK(tb.epoch == epoch && tb.batch == step,
                "train loader is at epoch {} batch {}, the search at epoch {} step {}", tb.epoch,
                tb.batch, epoch, step);
  const Arch arch = sample_child(trainer_->generator());
  optimizer_->zero_grad();
  const Tensor logits = child_forward(on_device(tb.images), arch);
  Tensor loss = cross_entropy(logits, on_device(tb.labels));
  loss.backward();
  if (config_.sgd.grad_clip > 0) {
    optim::clip_grad_norm_on_device(optimizer_->params(), config_.sgd.grad_clip);
  }
  optimizer_->step();
  runner_->step_stats().add(loss, logits, tb.labels, Tensor(), 0,
                            {epoch + 1, step + 1, optimizer_->lr()});
  return tb.labels.size(0);
}

void EnasSearcher::controller_step() {
  const auto t0 = WallClock::now();
  const int epoch = runner_->epoch();
  const int64_t step = runner_->steps_done(1);
  last_step_ = trainer_->step([this](const Sample& sample) {
    const data::Batch vb = val_loader_->next();
    return static_cast<double>(child_correct(vb, sample.arch)) /
           static_cast<double>(vb.labels.size(0));
  });
  const ReinforceStats& s = last_step_;
  // The step's baseline and entropy ride on each of its rows: the file is already cut back to
  // the checkpoint on a resume, so a resumed search writes them exactly as an uninterrupted one.
  for (size_t i = 0; i < s.archs.size(); ++i) {
    run_.append_jsonl("sampled_archs.jsonl", {{"epoch", epoch + 1},
                                              {"step", step + 1},
                                              {"sample", i + 1},
                                              {"reward", s.rewards[i]},
                                              {"step_baseline", s.baseline},
                                              {"step_entropy", s.entropy},
                                              {"enas", arch_enas(s.archs[i])},
                                              {"arch", arch_json(s.archs[i])}});
    if (s.rewards[i] > ctrl_.best_reward) {
      ctrl_.best_reward = s.rewards[i];
      ctrl_.best_arch = arch_enas(s.archs[i]);
    }
  }
  ctrl_.reward_sum += s.reward;
  ctrl_.entropy_sum += s.entropy;
  ctrl_.skip_rate_sum += s.skip_rate;
  ctrl_.controller_seconds += seconds_since(t0);
}

std::string EnasSearcher::progress_text(size_t phase) const {
  if (phase == 0) {
    const EpochTotals& t = runner_->totals();
    return fmt::format("shared loss {:.4f} acc {:.2f}%", t.mean_loss(), t.accuracy());
  }
  return fmt::format("reward {:.4f} baseline {:.4f} entropy {:.3f}",
                     ctrl_.reward_sum / std::max<int64_t>(1, runner_->steps_done(1)),
                     last_step_.baseline, last_step_.entropy);
}

bool EnasSearcher::end_epoch(const std::function<bool()>&) {
  const EpochTotals& totals = runner_->totals();
  const int epoch = runner_->epoch();
  const int steps = config_.controller_steps;
  const double reward = steps > 0 ? ctrl_.reward_sum / steps : 0;
  const double entropy = steps > 0 ? ctrl_.entropy_sum / steps : 0;
  const double baseline = trainer_->baseline().value_or(0.0);
  const RunPoint at{epoch + 1, 0, optimizer_->lr()};
  check_finite(entropy, "the controller's entropy", at);
  check_finite(baseline, "the reward baseline", at);
  const double seconds = totals.train_seconds + ctrl_.controller_seconds;
  nlohmann::json m = {{"epoch", epoch + 1},
                      {"shared_loss", totals.mean_loss()},
                      {"shared_acc", totals.accuracy()},
                      {"lr", optimizer_->lr()},
                      {"controller_steps", steps},
                      {"mean_reward", reward},
                      {"baseline", baseline},
                      {"entropy", entropy},
                      {"best_reward", ctrl_.best_reward < 0 ? 0.0 : ctrl_.best_reward},
                      {"best_arch", ctrl_.best_arch},
                      {"train_seconds", totals.train_seconds},
                      {"controller_seconds", ctrl_.controller_seconds},
                      {"seconds", seconds}};
  if (!config_.micro()) m["skip_rate"] = steps > 0 ? ctrl_.skip_rate_sum / steps : 0;
  run_.append_jsonl("metrics.jsonl", m);
  log_.line(fmt::format(
      "epoch {}/{}  shared loss {:.4f} acc {:.2f}%  reward {:.4f} baseline {:.4f} entropy {:.3f}"
      "{}  lr {:.6f}  {:.1f} s",
      epoch + 1, config_.epochs, totals.mean_loss(), totals.accuracy(), reward, baseline, entropy,
      config_.micro() ? "" : fmt::format(" skips {:.3f}", m["skip_rate"].get<double>()),
      optimizer_->lr(), seconds));
  if (!ctrl_.best_arch.empty())
    log_.line(fmt::format("  best sample {:.4f}: {}", ctrl_.best_reward, ctrl_.best_arch));
  ctrl_ = {};
  return true;
}

Derived EnasSearcher::derive() {
  const auto t0 = WallClock::now();
  // A generator of its own and the first search-val batch: the derivation depends only on the
  // final weights and controller, so a finished run derives the same architecture again.
  Generator gen(config_.seed ^ kDeriveStream);
  data::Batch first = eval_loader_->make_batch(eval_loader_->epoch_order(0), 0, 0);
  const int64_t n = std::min(config_.batch_size, first.labels.size(0));
  first.images = first.images.narrow(0, 0, n);
  first.labels = first.labels.narrow(0, 0, n);
  Progress bar("derive", config_.derive_samples, "arch");
  std::string text;
  Derived best;
  best.acc = -1;
  for (int k = 0; k < config_.derive_samples; ++k) {
    const Arch arch = sample_child(gen);
    const double acc = 100.0 * static_cast<double>(child_correct(first, arch)) / n;
    text +=
        nlohmann::json(
            {{"sample", k + 1}, {"acc", acc}, {"enas", arch_enas(arch)}, {"arch", arch_json(arch)}})
            .dump() +
        "\n";
    if (acc > best.acc) best = {arch, acc, 0.0};
    if (options_.progress) bar.update(k + 1, k + 1, fmt::format("best {:.2f}%", best.acc));
  }
  if (options_.progress) bar.finish();
  run_.write_text("derived.jsonl", text);

  int64_t correct = 0, seen = 0;
  for (int64_t b = 0; b < eval_loader_->batches_per_epoch(); ++b) {
    const data::Batch vb = eval_loader_->make_batch(eval_loader_->epoch_order(0), 0, b);
    correct += child_correct(vb, best.arch);
    seen += vb.labels.size(0);
  }
  best.val_acc = seen > 0 ? 100.0 * static_cast<double>(correct) / seen : 0;
  log_.line(fmt::format(
      "derived the best of {} sampled architectures: {:.2f}% on a search-val batch of {}, "
      "{:.2f}% on all {} search-val images (shared weights)  {:.1f} s",
      config_.derive_samples, best.acc, n, best.val_acc, seen, seconds_since(t0)));
  return best;
}

void EnasSearcher::write_result(const Derived& d, EnasResult& r) const {
  r.run_dir = run_.path();
  r.finished = true;
  r.epochs_done = runner_->epoch();
  r.arch = d.arch;
  r.derive_acc = d.acc;
  r.val_acc = d.val_acc;
  run_.write_json("arch.json", arch_json(d.arch));
  run_.write_text("arch.txt", arch_text(d.arch));
  nlohmann::json result = {{"space", config_.space},    {"arch", arch_json(d.arch)},
                           {"enas", arch_enas(d.arch)}, {"derive_acc", d.acc},
                           {"val_acc", d.val_acc},      {"epochs", runner_->epoch()}};
  std::vector<std::string> files = {"arch.json", "arch.txt"};
  if (const auto* m = std::get_if<MicroArch>(&d.arch)) {
    const Genotype g = to_genotype(*m);
    r.genotype = g;
    run_.write_text("genotype.txt", g.to_text() + "\n");
    run_.write_text("genotype.json", g.to_json() + "\n");
    run_.write_text("normal.dot", cell_to_dot(g.normal, g.normal_concat, "normal cell"));
    run_.write_text("reduce.dot", cell_to_dot(g.reduce, g.reduce_concat, "reduction cell"));
    const bool svg = render_dot(run_.file("normal.dot")) && render_dot(run_.file("reduce.dot"));
    r.train_command = nas_train_command(run_.path() + "/genotype.txt", config_.data.dataset,
                                        config_.data.data_dir, config_.preset == "quick");
    result["genotype"] = g.to_text();
    result["train_command"] = r.train_command;
    files.insert(files.end(), {"genotype.txt/.json",
                               svg ? "normal/reduce .dot (+ .svg/.png)" : "normal/reduce .dot"});
  } else {
    run_.write_text("arch.dot", std::get<MacroArch>(d.arch).to_dot());
    const bool svg = render_dot(run_.file("arch.dot"));
    files.push_back(svg ? "arch.dot (+ .svg/.png)" : "arch.dot");
  }
  run_.write_json("result.json", result);
  std::string text = arch_text(d.arch);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  log_.line("architecture:\n" + text);
  log_.line(fmt::format(
      "run folder {}: {}, derived.jsonl, sampled_archs.jsonl, metrics.jsonl, search.log",
      run_.path(), fmt::join(files, ", ")));
  if (!r.train_command.empty()) log_.line("train it: " + r.train_command);
}

}  // namespace fusenas::nas::enas
