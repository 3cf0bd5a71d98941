// LmTrainer checkpoints: weights, the optimizer (SGD, or ASGD with its averages), the dropout
// generator, the hidden state carried into the next window, NT-ASGD's history, the best loss,
// the position and the metrics file's length, saved and restored together.
#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "lm_trainer_impl.h"

namespace fusenas::nas {
namespace {
constexpr const char* kFormat = "fusenas-train-lm";
constexpr int kVersion = 1;
}  // namespace

void LmTrainer::save_checkpoint() const {
  CheckpointWriter w;
  w.add_module("model", *model_);
  w.add_optimizer("optimizer", *optimizer_);
  if (state_.h.defined()) w.add_tensor("state.h", state_.h);
  if (state_.c.defined()) w.add_tensor("state.c", state_.c);
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  runner_->save_position(s);
  s["asgd"] = asgd_;
  s["dropout_rng"] = to_json(drop_gen_.state());
  s["sgd_history"] = sgd_history_;
  s["best_valid"] = best_valid_;
  s["last_valid"] = last_valid_;
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  w.save(run_.path());
}

void LmTrainer::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_train --task lm");
  r.load_module("model", *model_);
  try {
    if (json_field<bool>(s, "asgd")) switch_to_asgd();
    drop_gen_.set_state(generator_state_from_json(s.at("dropout_rng")));
    sgd_history_ = s.at("sgd_history").get<std::vector<double>>();
    best_valid_ = json_field<double>(s, "best_valid");
    last_valid_ = json_field<double>(s, "last_valid");
    // Metrics lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    const int epoch = json_field<int>(s, "epoch");
    if (epoch >= 0 && epoch < config_.epochs) use_plan(epoch);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  r.load_optimizer("optimizer", *optimizer_);
  runner_->restore_position(s);
  // The state carried into the next window; a window boundary at an epoch's start resets it.
  rnn::LmState state = model_->zero_state(config_.lm.batch_size);
  r.copy_tensor_into("state.h", state.h);
  if (state.c.defined()) r.copy_tensor_into("state.c", state.c);
  state_ = state;
}

}  // namespace fusenas::nas
