// search_lm()/resume_lm_search() and the LmSearcher's construction: splits, the LM over the
// search cell, alphas, both optimizers, the window plans, and the architect's alpha gradient.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "lm_searcher.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kDropoutStream = 0x6c736472ULL;  // "lsdr"
constexpr uint64_t kAlphaStream = 0x6c73616cULL;    // "lsal"

// Every gradient of `ts` (zeros where none), detached copies.
std::vector<Tensor> grads_of(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.grad().defined() ? t.grad().clone() : zeros_like(t));
  return out;
}

void clear_grads(const std::vector<Tensor>& ts) {
  for (Tensor t : ts) t.set_grad(Tensor());
}

// DARTS rnn/architect.py's _clip: scale by max_norm / (norm + 1e-6) when that is below 1, on the
// device (nothing is read back).
void clip_in_place(const std::vector<Tensor>& grads, double max_norm) {
  if (max_norm <= 0 || grads.empty()) return;
  const Tensor norm = sqrt(optim::sum_of_squares(grads));
  optim::scale_(grads,
                clamp_max(div(full({}, max_norm, norm.options()), add_scalar(norm, 1e-6)), 1.0));
}

}  // namespace

LmSearcher::LmSearcher(const LmSearchConfig& config, const RunOptions& options,
                       const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      corpus_(load_corpus(config_.data)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("darts")),
      drop_gen_(data::mix_seed(config.seed, kDropoutStream, 0)),
      dropout_(rnn::lm_dropout(config.lm)) {
  use_threads(options_.threads);
  // train_search.py: the architect reads the valid split at the training batch size; the
  // epoch's perplexity is the valid split's at the evaluation batch size.
  train_ = rnn::batchify_split(corpus_.train, config_.lm.batch_size, "train");
  search_ = rnn::batchify_split(corpus_.valid, config_.lm.batch_size, "valid");
  valid_ = rnn::batchify_split(corpus_.valid, config_.lm.eval_batch_size, "valid");
  Generator init(config_.seed);
  cell_ = std::make_shared<rnn::DartsRecurrentSearchCell>(config_.lm.hidden, config_.lm.hidden,
                                                          init, config_.steps);
  model_ = std::make_shared<rnn::RecurrentLm>(corpus_.vocab.size(), cell_, init);
  // model_search.py: alphas = 1e-3 * randn(edges, ops).
  Generator alpha_gen(data::mix_seed(config_.seed, kAlphaStream, 0));
  alphas_ = Tensor::empty({cell_->num_edges(), rnn::kDartsRecurrentSearchOps});
  {
    float* a = alphas_.data<float>();
    for (int64_t i = 0; i < alphas_.numel(); ++i)
      a[i] = static_cast<float>(1e-3 * alpha_gen.next_normal());
  }
  if (!device_.is_cpu()) {
    model_->to(device_);
    alphas_ = alphas_.to(device_);
  }
  alphas_.set_requires_grad();
  model_->set_alphas(alphas_);
  params_ = model_->parameters();
  optimizer_ = std::make_unique<optim::SGD>(params_, config_.lm.lr, 0.0, config_.lm.weight_decay);
  arch_optimizer_ = std::make_unique<optim::Adam>(std::vector<Tensor>{alphas_}, config_.arch.lr,
                                                  std::pair{config_.arch.beta1, config_.arch.beta2},
                                                  config_.arch.eps, config_.arch.weight_decay);
  state_ = model_->zero_state(config_.lm.batch_size);
  search_state_ = model_->zero_state(config_.lm.batch_size);
  use_plan(0);
  runner_ = std::make_unique<EpochRunner>(
      static_cast<RunBody&>(*this),
      std::vector<Phase>{{"the search", "window", "window", static_cast<int64_t>(plan_.size())}},
      config_.epochs, run_.path(), log_, options_.progress, options_.stop_after_steps);
}

void LmSearcher::use_plan(int epoch) {
  if (planned_epoch_ != epoch) {
    // train_search.py: bptt or bptt / 2, no normal draw (stddev 0), truncated to an integer.
    data::BpttOptions o;
    o.bptt = config_.lm.bptt;
    o.stddev = 0;
    o.max_length = config_.lm.bptt + config_.lm.max_seq_len_delta;
    plan_ = rnn::plan_lm_epoch(train_, o, config_.seed, epoch);
    planned_epoch_ = epoch;
  }
  if (runner_) runner_->set_length(0, static_cast<int64_t>(plan_.size()));
}

std::pair<Tensor, Tensor> LmSearcher::search_window(int64_t train_start) const {
  const int64_t rows = search_.size(0);
  const int64_t start = train_start % (rows - 1);
  const int64_t length = std::min(config_.lm.bptt, rows - 1 - start);
  return {search_.narrow(0, start, length).contiguous(),
          search_.narrow(0, start + 1, length).contiguous()};
}

Tensor LmSearcher::alpha_gradient(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                                  const Tensor& y_val, double eta) {
  const std::vector<Tensor> alphas{alphas_};
  const auto loss_at = [&](const Tensor& x, const Tensor& y, const rnn::LmState& s,
                           rnn::LmState* next) {
    const rnn::RecurrentLm::Output out = model_->forward(x, s, dropout_, &drop_gen_);
    if (next != nullptr) *next = out.state;
    return model_->loss(out, y);
  };
  search_state_ = rnn::detach(search_state_);
  rnn::LmState next;
  if (config_.order == 1) {
    clear_grads(alphas);
    const Tensor loss = loss_at(x_val, y_val, search_state_, &next);
    loss.backward();
    clear_grads(params_);
    search_state_ = next;
    return loss;
  }
  // Second order, as rnn/architect.py: w' = w - eta (clip(grad L_train(w)) + wd w).
  const std::vector<Tensor> saved = optim::clone(params_);
  const rnn::LmState train_state = rnn::detach(state_);
  clear_grads(params_);
  loss_at(x_train, y_train, train_state, nullptr).backward();
  std::vector<Tensor> v = grads_of(params_);
  {
    NoGradGuard no_grad;
    clip_in_place(v, config_.lm.clip);
    optim::add_(params_, v, -eta);
    optim::add_(params_, saved, -eta * config_.lm.weight_decay);
  }
  // L_val at w': its alpha gradient, and its weight gradient (clipped, decay in: the vector v).
  clear_grads(params_);
  clear_grads(alphas);
  const Tensor val_loss = loss_at(x_val, y_val, search_state_, &next);
  val_loss.backward();
  const Tensor dalpha = alphas_.grad().clone();
  v = grads_of(params_);
  Tensor r;  // architect.py's R = 0.01 / |v|, a 0-d tensor on the device as there
  {
    NoGradGuard no_grad;
    clip_in_place(v, config_.lm.clip);
    optim::add_(v, params_, config_.lm.weight_decay);
    r = div(full({}, 1e-2, v.front().options()), sqrt(optim::sum_of_squares(v)));
    optim::scale_(v, r);  // v becomes R v, the finite difference's step
  }
  // The alphas' gradient of L_train at w' + step R v (the weights stay moved).
  const auto alpha_grad_at = [&](double step) {
    {
      NoGradGuard no_grad;
      optim::add_(params_, v, step);
    }
    clear_grads(alphas);
    loss_at(x_train, y_train, train_state, nullptr).backward();
    return alphas_.grad().clone();
  };
  const Tensor plus = alpha_grad_at(1.0);
  const Tensor minus = alpha_grad_at(-2.0);
  {
    NoGradGuard no_grad;
    optim::copy_(params_, saved);
    // g = dalpha - eta (g+ - g-) / (2R + 1e-10)
    const Tensor factor = div(full({}, eta, r.options()), add_scalar(scale(r, 2.0), 1e-10));
    alphas_.set_grad(sub(dalpha, mul(sub(plus, minus), factor)));
  }
  clear_grads(params_);
  search_state_ = rnn::detach(next);
  return val_loss;
}

rnn::RecurrentGenotype LmSearcher::genotype() const {
  NoGradGuard no_grad;
  return cell_->derive_genotype(alphas_.device().is_cpu() ? alphas_ : alphas_.to(Device::cpu()));
}

LmSearchResult search_lm(const LmSearchConfig& config, const RunOptions& options) {
  return start_run<LmSearcher>(config, options, "darts");
}

LmSearchResult resume_lm_search(const std::string& run_dir, const RunOptions& options) {
  return resume_run<LmSearcher>(run_dir, options, "darts", &lm_search_config_from_json);
}

}  // namespace fusenas::nas
