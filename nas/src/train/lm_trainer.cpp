// train_lm()/resume_lm()/lm_dry_run_summary() and the LmTrainer's construction: corpus, batches,
// model, optimizer, the window plans and NT-ASGD's switch rule.
#include "fusenas/nas/train/lm_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "lm_trainer_impl.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kDropoutStream = 0x6c6d6472ULL;  // "lmdr"

std::shared_ptr<rnn::RecurrentLm> build_lm(const LmTrainConfig& c, int64_t vocab) {
  Generator init(c.seed);
  rnn::RecurrentCell cell =
      rnn::make_recurrent_cell(c.recurrent_arch(), c.lm.hidden, c.lm.hidden, init);
  return std::make_shared<rnn::RecurrentLm>(vocab, std::move(cell), init);
}

}  // namespace

int64_t count_parameters(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

double LmTrainResult::valid_ppl() const {
  return std::exp(best_valid_loss);
}
double LmTrainResult::test_ppl() const {
  return std::exp(test_loss);
}

bool should_switch_to_asgd(const std::vector<double>& history, double loss, int nonmono) {
  if (nonmono <= 0 || static_cast<int64_t>(history.size()) <= nonmono) return false;
  const double best = *std::min_element(history.begin(), history.end() - nonmono);
  return loss > best;
}

LmTrainer::LmTrainer(const LmTrainConfig& config, const RunOptions& options,
                     const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      corpus_(load_corpus(config_.data)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("train")),
      drop_gen_(data::mix_seed(config.seed, kDropoutStream, 0)),
      dropout_(rnn::lm_dropout(config.lm)) {
  use_threads(options_.threads);
  train_ = rnn::batchify_split(corpus_.train, config_.lm.batch_size, "train");
  valid_ = rnn::batchify_split(corpus_.valid, config_.lm.eval_batch_size, "valid");
  test_ = rnn::batchify_split(corpus_.test, config_.test_batch_size, "test");
  model_ = build_lm(config_, corpus_.vocab.size());
  if (!device_.is_cpu()) model_->to(device_);
  params_ = model_->parameters();
  // DARTS rnn/train.py: plain SGD (no momentum) with L2 weight decay until NT-ASGD switches.
  optimizer_ = std::make_unique<optim::SGD>(params_, config_.lm.lr, 0.0, config_.lm.weight_decay);
  if (device_.is_cuda() && !options_.eager) {
    optimizer_->keep_scalars_on_device();  // each window's scaled lr, read by the replayed step
    graphs_ = std::make_unique<GraphedStep>(device_);
  }
  state_ = model_->zero_state(config_.lm.batch_size);
  use_plan(0);
  runner_ = std::make_unique<EpochRunner>(
      static_cast<RunBody&>(*this),
      std::vector<Phase>{{"training", "window", "window", static_cast<int64_t>(plan_.size())}},
      config_.epochs, run_.path(), log_, options_.progress, options_.stop_after_steps);
}

void LmTrainer::use_plan(int epoch) {
  if (planned_epoch_ != epoch) {
    data::BpttOptions o;
    o.bptt = config_.lm.bptt;
    o.max_length = config_.lm.bptt + config_.lm.max_seq_len_delta;
    plan_ = rnn::plan_lm_epoch(train_, o, config_.seed, epoch);
    planned_epoch_ = epoch;
  }
  if (runner_) runner_->set_length(0, static_cast<int64_t>(plan_.size()));
}

void LmTrainer::switch_to_asgd() {
  // DARTS rnn/train.py: ASGD(lr=args.lr, t0=0, lambd=0., weight_decay=args.wdecay).
  optimizer_ = std::make_unique<optim::ASGD>(
      params_, config_.lm.lr, optim::ASGDOptions{0.0, 0.75, 0.0, config_.lm.weight_decay});
  asgd_ = true;
  if (graphs_) {
    graph_replays_ += graphs_->replays();
    graph_captures_ += graphs_->captures();
    graphs_.reset();  // and the graphs' memory with it
  }
}

LmTrainResult train_lm(const LmTrainConfig& config, const RunOptions& options) {
  return start_run<LmTrainer>(config, options, "train");
}

LmTrainResult resume_lm(const std::string& run_dir, const RunOptions& options) {
  return resume_run<LmTrainer>(run_dir, options, "train", &lm_config_from_json);
}

bool is_lm_run(const std::string& run_dir) {
  std::ifstream in(run_dir + "/config.json");
  if (!in) return false;
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("task") && j["task"] == kLmTask;
}

std::string lm_dry_run_summary(const LmTrainConfig& config) {
  const LmTrainConfig c = checked_config(config);
  const data::TextCorpus corpus = load_corpus(c.data);
  const auto model = build_lm(c, corpus.vocab.size());
  return fmt::format(
      "{}\ncorpus: {} ({} level), vocabulary {}, tokens train {} / valid {} / test {}\n"
      "embedding = hidden = {}, tied decoder\nparams: {}\n",
      c.recurrent_arch().describe(), corpus.name, c.data.level, corpus.vocab.size(),
      corpus.train.numel(), corpus.valid.numel(), corpus.test.numel(), c.lm.hidden,
      count_parameters(*model));
}

}  // namespace fusenas::nas
