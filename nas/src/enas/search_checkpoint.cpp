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
  s["epoch"] = epoch_;
  s["batch"] = batch_;
  s["controller_step"] = ctrl_step_;
  s["global_step"] = global_step();
  s["finished"] = epoch_ >= config_.epochs;
  s["train_loader"] = nas::to_json(train_loader_->state());
  s["val_loader"] = nas::to_json(val_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["sampled_bytes"] = run_.size_of("sampled_archs.jsonl");
  s["partial"] = {{"loss_sum", totals_.loss_sum},
                  {"correct", totals_.correct},
                  {"seen", totals_.seen},
                  {"train_seconds", totals_.train_seconds},
                  {"reward_sum", totals_.reward_sum},
                  {"entropy_sum", totals_.entropy_sum},
                  {"skip_rate_sum", totals_.skip_rate_sum},
                  {"controller_seconds", totals_.controller_seconds},
                  {"best_reward", totals_.best_reward},
                  {"best_arch", totals_.best_arch}};
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
    epoch_ = json_field<int>(s, "epoch");
    batch_ = json_field<int64_t>(s, "batch");
    ctrl_step_ = json_field<int>(s, "controller_step");
    const nlohmann::json& p = s.at("partial");
    totals_.loss_sum = json_field<double>(p, "loss_sum");
    totals_.correct = json_field<int64_t>(p, "correct");
    totals_.seen = json_field<int64_t>(p, "seen");
    totals_.train_seconds = json_field<double>(p, "train_seconds");
    totals_.reward_sum = json_field<double>(p, "reward_sum");
    totals_.entropy_sum = json_field<double>(p, "entropy_sum");
    totals_.skip_rate_sum = json_field<double>(p, "skip_rate_sum");
    totals_.controller_seconds = json_field<double>(p, "controller_seconds");
    totals_.best_reward = json_field<double>(p, "best_reward");
    totals_.best_arch = json_field<std::string>(p, "best_arch");
    // Lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    run_.truncate_to("sampled_archs.jsonl", json_field<uint64_t>(s, "sampled_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  FUSENAS_CHECK(epoch_ >= 0 && epoch_ <= config_.epochs && batch_ >= 0 &&
                    batch_ <= train_loader_->batches_per_epoch() && ctrl_step_ >= 0 &&
                    ctrl_step_ <= config_.controller_steps,
                "checkpoint in {} is at epoch {} shared step {} controller step {}, outside this "
                "run's {} epochs of {} + {} steps",
                run_.path(), epoch_, batch_, ctrl_step_, config_.epochs,
                train_loader_->batches_per_epoch(), config_.controller_steps);
  optimizer_->set_lr(config_.lr_at(std::min(epoch_, config_.epochs - 1)));
}

}  // namespace fusenas::nas::enas
