// DARTS search checkpoints: weights and BN statistics, alphas, both optimisers, the schedule,
// both loaders' positions, the epoch's partial sums and the lengths of the JSON-lines files.
#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "searcher.h"

namespace fusenas::nas {
namespace {
constexpr const char* kFormat = "fusenas-darts";
constexpr int kVersion = 1;
}  // namespace

void DartsSearcher::save_checkpoint() const {
  CheckpointWriter w;
  w.add_module("model", *net_);
  w.add_module("arch", net_->arch());
  w.add_optimizer("optimizer", *optimizer_);
  w.add_optimizer("arch_optimizer", architect_->optimizer());
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  runner_->save_position(s);
  s["scheduler"] = to_json(scheduler_->state_dict());
  s["train_loader"] = to_json(train_loader_->state());
  s["val_loader"] = to_json(val_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["alphas_bytes"] = run_.size_of("alphas.jsonl");
  s["last_val_acc"] = last_val_acc_;
  w.save(run_.path());
}

void DartsSearcher::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_darts");
  r.load_module("model", *net_);
  r.load_module("arch", net_->arch());
  r.load_optimizer("optimizer", *optimizer_);
  r.load_optimizer("arch_optimizer", architect_->optimizer());
  try {
    scheduler_->load_state_dict(scheduler_state_from_json(s.at("scheduler")));
    train_loader_->set_state(loader_state_from_json(s.at("train_loader")));
    val_loader_->set_state(loader_state_from_json(s.at("val_loader")));
    last_val_acc_ = json_field<double>(s, "last_val_acc");
    // Lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    run_.truncate_to("alphas.jsonl", json_field<uint64_t>(s, "alphas_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  runner_->restore_position(s);
}

}  // namespace fusenas::nas
