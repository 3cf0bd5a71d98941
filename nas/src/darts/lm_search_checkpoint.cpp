// LmSearcher checkpoints: weights, alphas, both optimizers, the dropout generator, both carried
// hidden states and the position, saved and restored together.
#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "lm_searcher.h"

namespace fusenas::nas {
namespace {
constexpr const char* kFormat = "fusenas-darts-lm";
constexpr int kVersion = 1;
}  // namespace

void LmSearcher::save_checkpoint() const {
  CheckpointWriter w;
  w.add_module("model", *model_);
  w.add_tensor("alphas", alphas_);
  w.add_optimizer("optimizer", *optimizer_);
  w.add_optimizer("arch_optimizer", *arch_optimizer_);
  w.add_tensor("state.h", state_.h);
  w.add_tensor("search_state.h", search_state_.h);
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  runner_->save_position(s);
  s["dropout_rng"] = to_json(drop_gen_.state());
  s["last_valid"] = last_valid_;
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  w.save(run_.path());
}

void LmSearcher::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_darts --task lm");
  r.load_module("model", *model_);
  r.load_optimizer("optimizer", *optimizer_);
  r.load_optimizer("arch_optimizer", *arch_optimizer_);
  r.copy_tensor_into("alphas", alphas_);
  r.copy_tensor_into("state.h", state_.h);
  r.copy_tensor_into("search_state.h", search_state_.h);
  try {
    drop_gen_.set_state(generator_state_from_json(s.at("dropout_rng")));
    last_valid_ = json_field<double>(s, "last_valid");
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    const int epoch = json_field<int>(s, "epoch");
    if (epoch >= 0 && epoch < config_.epochs) use_plan(epoch);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  runner_->restore_position(s);
}

}  // namespace fusenas::nas
