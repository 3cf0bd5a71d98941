// The one-shot estimator: random-path training of a space's shared weights, their checkpoint, and
// scoring candidates with them.
#include "fusenas/nas/estimate/one_shot.h"
#include "fusenas/nas/run/wall_clock.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/deferred_stats.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/multibranch_space.h"

namespace fusenas::nas::estimate {
namespace {

constexpr const char* kFormat = "fusenas-one-shot";
constexpr int kVersion = 1;
// The sampled paths' stream, apart from the weights' initialisation ("osp").
constexpr uint64_t kPathStream = 0x6f7370ULL;

// The options a space was built with, normalised (every key, as the space holds them).
nlohmann::json options_of(const space::ArchSpace& s) {
  if (const auto* m = dynamic_cast<const space::MultiBranchSpace*>(&s))
    return m->options().to_json();
  if (const auto* d = dynamic_cast<const space::DartsCellSpace*>(&s)) return d->options().to_json();
  if (const auto* c = dynamic_cast<const space::ChainSpace*>(&s)) return c->options().to_json();
  FUSENAS_FAIL(
      "one-shot scoring has no supernet for the {} space (it has one for multibranch, "
      "darts-cell and chain)",
      s.name());
}

nlohmann::json shape_json(const space::ImageShape& s) {
  return {{"channels", s.channels}, {"size", s.size}, {"classes", s.classes}};
}

// Scoring normalises with batch statistics, but a training-mode forward also moves the running
// averages; restoring them keeps scoring free of side effects (a checkpoint saved after scoring
// equals one saved before), on a throw too.
class RunningStatsGuard {
 public:
  // Puts `m` in training mode (batch statistics) until the guard ends.
  explicit RunningStatsGuard(nn::Module& m)
      : module_(m), was_training_(m.is_training()), buffers_(m.buffers()) {
    for (const Tensor& b : buffers_) saved_.push_back(b.clone());
    module_.train();
  }
  ~RunningStatsGuard() {
    for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i].copy_(saved_[i]);
    module_.train(was_training_);
  }
  RunningStatsGuard(const RunningStatsGuard&) = delete;
  RunningStatsGuard& operator=(const RunningStatsGuard&) = delete;

 private:
  nn::Module& module_;
  bool was_training_;
  std::vector<Tensor> buffers_, saved_;
};

}  // namespace

void OneShotConfig::validate() const {
  FUSENAS_CHECK(epochs >= 1 && epochs <= 100000,
                "one-shot config: epochs must lie in [1, 100000], got {}", epochs);
  FUSENAS_CHECK(std::isfinite(lr) && lr > 0, "one-shot config: lr must be positive, got {}", lr);
  FUSENAS_CHECK(std::isfinite(lr_min) && lr_min >= 0 && lr_min <= lr,
                "one-shot config: lr_min must lie in [0, lr = {}], got {}", lr, lr_min);
  FUSENAS_CHECK(std::isfinite(momentum) && momentum >= 0 && momentum < 1,
                "one-shot config: momentum must lie in [0, 1), got {}", momentum);
  FUSENAS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
                "one-shot config: weight_decay must be at least 0, got {}", weight_decay);
  FUSENAS_CHECK(std::isfinite(grad_clip) && grad_clip >= 0,
                "one-shot config: grad_clip must be at least 0 (0: no clipping), got {}",
                grad_clip);
}

nlohmann::json OneShotConfig::to_json() const {
  return {{"epochs", epochs},
          {"lr", lr},
          {"lr_min", lr_min},
          {"momentum", momentum},
          {"weight_decay", weight_decay},
          {"grad_clip", grad_clip}};
}

OneShotConfig OneShotConfig::from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object(), "one-shot config must be a JSON object, got {}", j.dump());
  OneShotConfig c;
  const nlohmann::json known = c.to_json();
  for (const auto& [key, value] : j.items()) {
    FUSENAS_CHECK(known.contains(key), "one-shot config: unknown key '{}'", key);
    if (key == "epochs") {
      c.epochs = json_field<int>(j, "epochs");
      continue;
    }
    const auto v = json_field<double>(j, key.c_str());
    if (key == "lr") c.lr = v;
    if (key == "lr_min") c.lr_min = v;
    if (key == "momentum") c.momentum = v;
    if (key == "weight_decay") c.weight_decay = v;
    if (key == "grad_clip") c.grad_clip = v;
  }
  c.validate();
  return c;
}

nlohmann::json OneShotEpoch::to_json() const {
  return {{"epoch", epoch}, {"loss", loss}, {"acc", acc}, {"lr", lr}, {"seconds", seconds}};
}

OneShotEstimator::OneShotEstimator(const std::string& space_name,
                                   const nlohmann::json& space_options,
                                   const space::ImageShape& shape, const OneShotConfig& config,
                                   uint64_t seed, Device device)
    : space_name_(space_name),
      space_(space::make_arch_space(space_name, space_options)),
      shape_(shape),
      config_(config),
      seed_(seed),
      device_(device),
      sampler_(seed ^ kPathStream) {
  config_.validate();
  space_options_ = options_of(*space_);
  Generator init(seed);
  paths_ = make_shared_paths(*space_, shape_, init);
  if (!device_.is_cpu()) paths_.weights->to(device_);
  params_ = paths_.weights->parameters();
  optimizer_ = std::make_unique<optim::SGD>(params_, config_.lr, config_.momentum,
                                            config_.weight_decay, /*nesterov=*/false);
}

OneShotEstimator::OneShotEstimator(const space::ArchSpace& space, const space::ImageShape& shape,
                                   const OneShotConfig& config, uint64_t seed, Device device)
    : OneShotEstimator(space.name(), options_of(space), shape, config, seed, device) {}

OneShotEstimator::~OneShotEstimator() = default;

double OneShotEstimator::lr_at(int64_t step, int64_t total) const {
  const double t = static_cast<double>(step) / static_cast<double>(total);
  return config_.lr_min +
         (config_.lr - config_.lr_min) * 0.5 * (1.0 + std::cos(std::numbers::pi * t));
}

bool OneShotEstimator::train(data::DataLoader& search_train, const OneShotHooks& hooks) {
  const int64_t per_epoch = search_train.batches_per_epoch();
  FUSENAS_CHECK(per_epoch > 0, "one-shot training: the search-train loader has no batches");
  FUSENAS_CHECK(steps_per_epoch_ == 0 || steps_per_epoch_ == per_epoch,
                "one-shot training: the supernet was trained on {} batches per epoch, this "
                "search-train loader has {}",
                steps_per_epoch_, per_epoch);
  steps_per_epoch_ = per_epoch;
  if (trained()) return true;
  const int64_t total = per_epoch * config_.epochs;
  // Batches are a pure function of the loader's position, so this continues a loaded checkpoint
  // on exactly the batches an uninterrupted run would see.
  data::LoaderState at = search_train.state();
  at.epoch = epoch_;
  at.batch = step_;
  search_train.set_state(at);
  paths_.weights->train();
  DeferredStepStats stats;
  auto t0 = WallClock::now();
  auto drain = [&] {
    const StepSums s = stats.drain();
    loss_sum_ += s.loss_sum;
    correct_ += s.correct;
    seconds_ += seconds_since(t0);
    t0 = WallClock::now();
  };
  while (epoch_ < config_.epochs) {
    while (step_ < per_epoch) {
      if (hooks.stop && hooks.stop()) {
        drain();
        return false;
      }
      const data::Batch b = search_train.next();
      FUSENAS_CHECK(b.epoch == epoch_ && b.batch == step_,
                    "one-shot training: the loader is at epoch {} batch {}, training at epoch {} "
                    "step {}",
                    b.epoch, b.batch, epoch_, step_);
      const int64_t global = epoch_ * per_epoch + step_;
      optimizer_->set_lr(lr_at(global, total));
      const space::Point path = space_->sample(sampler_);
      const Tensor x = device_.is_cpu() ? b.images : b.images.to(device_);
      const Tensor y = device_.is_cpu() ? b.labels : b.labels.to(device_);
      optimizer_->zero_grad();
      const Tensor out = paths_.forward(path, x);
      Tensor loss = cross_entropy(out, y);
      loss.backward();
      // Only the sampled path has gradients: the clip and the step (and its weight decay) touch
      // that path alone, as ENAS's shared-weight step does.
      if (config_.grad_clip > 0) optim::clip_grad_norm_on_device(params_, config_.grad_clip);
      optimizer_->step();
      stats.add(loss, out, b.labels, Tensor(), 0, {epoch_ + 1, step_ + 1, optimizer_->lr()});
      seen_ += b.labels.size(0);
      ++step_;
      if (hooks.on_step) hooks.on_step(global + 1, total);
    }
    drain();
    OneShotEpoch e;
    e.epoch = epoch_ + 1;
    e.loss = seen_ > 0 ? loss_sum_ / static_cast<double>(seen_) : 0;
    e.acc = seen_ > 0 ? 100.0 * static_cast<double>(correct_) / static_cast<double>(seen_) : 0;
    e.lr = optimizer_->lr();
    e.seconds = seconds_;
    history_.push_back(e);
    ++epoch_;
    step_ = 0;
    loss_sum_ = 0;
    correct_ = seen_ = 0;
    seconds_ = 0;
    if (hooks.on_epoch) hooks.on_epoch(e);
  }
  return true;
}

nlohmann::json OneShotEstimator::identity() const {
  return {{"space", space_name_},
          {"space_options", space_options_},
          {"shape", shape_json(shape_)},
          {"config", config_.to_json()},
          {"seed", seed_}};
}

void OneShotEstimator::save(const std::string& dir) const {
  CheckpointWriter w;
  w.state() = identity();
  w.state()["format"] = kFormat;
  w.state()["version"] = kVersion;
  w.state()["sampler"] = to_json(sampler_.state());
  w.state()["position"] = {
      {"epoch", epoch_}, {"step", step_}, {"steps_per_epoch", steps_per_epoch_}};
  w.state()["partial"] = {
      {"loss_sum", loss_sum_}, {"correct", correct_}, {"seen", seen_}, {"seconds", seconds_}};
  nlohmann::json history = nlohmann::json::array();
  for (const OneShotEpoch& e : history_) history.push_back(e.to_json());
  w.state()["history"] = history;
  w.add_module("weights", *paths_.weights);
  w.add_optimizer("sgd", *optimizer_);
  w.save(dir);
}

void OneShotEstimator::load(const std::string& dir) {
  const CheckpointReader r = CheckpointReader::load(dir);
  check_checkpoint_format(r, kFormat, kVersion, "one-shot supernet");
  const nlohmann::json& s = r.state();
  const nlohmann::json mine = identity();
  for (const auto& [key, value] : mine.items()) {
    FUSENAS_CHECK(s.contains(key) && s[key] == value,
                  "checkpoint in {} is a supernet with {} {}, this estimator has {}", dir, key,
                  s.contains(key) ? s[key].dump() : "(none)", value.dump());
  }
  // Everything is read and checked before the first value changes.
  int epoch = 0;
  int64_t step = 0, per_epoch = 0, correct = 0, seen = 0;
  double loss_sum = 0, seconds = 0;
  GeneratorState sampler;
  std::vector<OneShotEpoch> history;
  try {
    const nlohmann::json& p = s.at("position");
    epoch = json_field<int>(p, "epoch");
    step = json_field<int64_t>(p, "step");
    per_epoch = json_field<int64_t>(p, "steps_per_epoch");
    const nlohmann::json& q = s.at("partial");
    loss_sum = json_field<double>(q, "loss_sum");
    correct = json_field<int64_t>(q, "correct");
    seen = json_field<int64_t>(q, "seen");
    seconds = json_field<double>(q, "seconds");
    sampler = generator_state_from_json(s.at("sampler"));
    for (const nlohmann::json& h : s.at("history")) {
      OneShotEpoch e;
      e.epoch = json_field<int>(h, "epoch");
      e.loss = json_field<double>(h, "loss");
      e.acc = json_field<double>(h, "acc");
      e.lr = json_field<double>(h, "lr");
      e.seconds = json_field<double>(h, "seconds");
      history.push_back(e);
    }
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", dir, e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", dir, e.what());
  }
  FUSENAS_CHECK(epoch >= 0 && epoch <= config_.epochs && step >= 0 && per_epoch >= 0 &&
                    (per_epoch == 0 ? step == 0 : step < per_epoch) &&
                    static_cast<size_t>(epoch) == history.size(),
                "{}/checkpoint.json: position epoch {} step {} of {} lies outside the training",
                dir, epoch, step, per_epoch);
  r.load_module("weights", *paths_.weights);
  r.load_optimizer("sgd", *optimizer_);
  sampler_.set_state(sampler);
  epoch_ = epoch;
  step_ = step;
  steps_per_epoch_ = per_epoch;
  loss_sum_ = loss_sum;
  correct_ = correct;
  seen_ = seen;
  seconds_ = seconds;
  history_ = std::move(history);
}

Tensor OneShotEstimator::logits(const space::Point& arch, const Tensor& x) {
  try {
    space_->validate(arch);
  } catch (const Error& e) {
    FUSENAS_FAIL("one-shot scoring: not a point of this {} space: {}", space_->name(), e.what());
  }
  const NoGradGuard no_grad;
  const RunningStatsGuard keep(*paths_.weights);
  return paths_.forward(arch, device_.is_cpu() ? x : x.to(device_));
}

double OneShotEstimator::score(const space::Point& arch, const std::vector<data::Batch>& batches) {
  FUSENAS_CHECK(!batches.empty(), "one-shot scoring needs at least one validation batch");
  int64_t correct = 0, seen = 0;
  for (const data::Batch& b : batches) {
    correct += count_correct(logits(arch, b.images), b.labels);
    seen += b.labels.size(0);
  }
  return seen > 0 ? 100.0 * static_cast<double>(correct) / static_cast<double>(seen) : 0;
}

std::vector<data::Batch> OneShotEstimator::validation_batches(const data::DataLoader& eval,
                                                              int64_t count) {
  const int64_t n = eval.batches_per_epoch();
  const int64_t take = count <= 0 ? n : std::min(count, n);
  const std::vector<int64_t> order = eval.epoch_order(0);
  std::vector<data::Batch> out;
  for (int64_t b = 0; b < take; ++b) out.push_back(eval.make_batch(order, 0, b));
  return out;
}

}  // namespace fusenas::nas::estimate
