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
  s["epoch"] = epoch_;
  s["batch"] = batch_;
  s["global_step"] = global_step();
  s["finished"] = epoch_ >= config_.epochs;
  s["scheduler"] = to_json(scheduler_->state_dict());
  s["train_loader"] = to_json(train_loader_->state());
  s["val_loader"] = to_json(val_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["alphas_bytes"] = run_.size_of("alphas.jsonl");
  s["partial"] = {{"loss_sum", totals_.loss_sum},
                  {"val_loss_sum", totals_.val_loss_sum},
                  {"correct", totals_.correct},
                  {"seen", totals_.seen},
                  {"train_seconds", totals_.train_seconds}};
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
    epoch_ = json_field<int>(s, "epoch");
    batch_ = json_field<int64_t>(s, "batch");
    const nlohmann::json& p = s.at("partial");
    totals_.loss_sum = json_field<double>(p, "loss_sum");
    totals_.val_loss_sum = json_field<double>(p, "val_loss_sum");
    totals_.correct = json_field<int64_t>(p, "correct");
    totals_.seen = json_field<int64_t>(p, "seen");
    totals_.train_seconds = json_field<double>(p, "train_seconds");
    last_val_acc_ = json_field<double>(s, "last_val_acc");
    // Lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
    run_.truncate_to("alphas.jsonl", json_field<uint64_t>(s, "alphas_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  FUSENAS_CHECK(epoch_ >= 0 && epoch_ <= config_.epochs && batch_ >= 0 &&
                    batch_ <= train_loader_->batches_per_epoch(),
                "checkpoint in {} is at epoch {} step {}, outside this run's {} epochs of {} steps",
                run_.path(), epoch_, batch_, config_.epochs, train_loader_->batches_per_epoch());
}

}  // namespace fusenas::nas
