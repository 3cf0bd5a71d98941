// ENAS search checkpoints: shared weights and BN statistics, their SGD state, the controller with
// its Adam, baseline and generator, both loaders' positions, the epoch's partial sums and the
// lengths of the JSON-lines files. The lr is a function of the epoch.
#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "searcher.h"

namespace fusenas::nas::enas {
namespace {
constexpr const char* kFormat = "fusenas-enas";
constexpr int kVersion = 1;
}  // namespace

void EnasSearcher::save_checkpoint() const {
  CheckpointWriter w;
  w.add_module("model", *child_);
  w.add_optimizer("optimizer", *optimizer_);
  trainer_->save(w, "controller");
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  s["space"] = config_.space;
  runner_->save_position(s);
  s["train_loader"] = nas::to_json(train_loader_->state());
  s["val_loader"] = nas::to_json(val_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["sampled_bytes"] = run_.size_of("sampled_archs.jsonl");
  s["partial"].update({{"reward_sum", ctrl_.reward_sum},
                       {"entropy_sum", ctrl_.entropy_sum},
                       {"skip_rate_sum", ctrl_.skip_rate_sum},
                       {"controller_seconds", ctrl_.controller_seconds},
                       {"best_reward", ctrl_.best_reward},
                       {"best_arch", ctrl_.best_arch}});
  w.save(run_.path());
}

void EnasSearcher::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_enas");
  const std::string space =
      s.contains("space") && s["space"].is_string() ? s["space"].get<std::string>() : "?";
  FUSENAS_CHECK(space == config_.space,
                "checkpoint in {} is of the {} space, its config.json says {}", run_.path(), space,
                config_.space);
  r.load_module("model", *child_);
  r.load_optimizer("optimizer", *optimizer_);
  trainer_->load(r, "controller");
  try {
    train_loader_->set_state(loader_state_from_json(s.at("train_loader")));
    val_loader_->set_state(loader_state_from_json(s.at("val_loader")));
    const nlohmann::json& p = s.at("partial");
    ctrl_.reward_sum = json_field<double>(p, "reward_sum");
    ctrl_.entropy_sum = json_field<double>(p, "entropy_sum");
    ctrl_.skip_rate_sum = json_field<double>(p, "skip_rate_sum");
    ctrl_.controller_seconds = json_field<double>(p, "controller_seconds");
    ctrl_.best_reward = json_field<double>(p, "best_reward");
    ctrl_.best_arch = json_field<std::string>(p, "best_arch");
    // Lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    run_.truncate_to("sampled_archs.jsonl", json_field<uint64_t>(s, "sampled_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  runner_->restore_position(s);
  optimizer_->set_lr(config_.lr_at(std::min(runner_->epoch(), config_.epochs - 1)));
}

}  // namespace fusenas::nas::enas
