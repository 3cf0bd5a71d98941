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
    epoch_ = s.at("epoch").get<int>();
    batch_ = s.at("batch").get<int64_t>();
    const nlohmann::json& p = s.at("partial");
    totals_.loss_sum = p.at("loss_sum").get<double>();
    totals_.val_loss_sum = p.at("val_loss_sum").get<double>();
    totals_.correct = p.at("correct").get<int64_t>();
    totals_.seen = p.at("seen").get<int64_t>();
    totals_.train_seconds = p.at("train_seconds").get<double>();
    last_val_acc_ = s.at("last_val_acc").get<double>();
    // Lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", s.at("metrics_bytes").get<uint64_t>());
    run_.truncate_to("alphas.jsonl", s.at("alphas_bytes").get<uint64_t>());
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  }
  FUSENAS_CHECK(epoch_ >= 0 && epoch_ <= config_.epochs && batch_ >= 0 &&
                    batch_ <= train_loader_->batches_per_epoch(),
                "checkpoint in {} is at epoch {} step {}, outside this run's {} epochs of {} steps",
                run_.path(), epoch_, batch_, config_.epochs, train_loader_->batches_per_epoch());
}

}  // namespace fusenas::nas
