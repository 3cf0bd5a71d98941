// Trainer checkpoints: every piece of state that decides the rest of the run (weights and BN
// statistics, SGD momentum, schedule position, drop-path generator, loader position, the
// epoch's partial sums and the metrics file's length), saved and restored together.
#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "trainer_impl.h"

namespace fusenas::nas {
namespace {
constexpr const char* kFormat = "fusenas-train";
constexpr int kVersion = 1;
}  // namespace

void Trainer::save_checkpoint() const {
  CheckpointWriter w;
  w.add_module("model", *net_);
  w.add_optimizer("optimizer", *optimizer_);
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  s["epoch"] = epoch_;
  s["batch"] = batch_;
  s["global_step"] = global_step();
  s["finished"] = epoch_ >= config_.epochs;
  s["scheduler"] = to_json(scheduler_->state_dict());
  s["drop_path_rng"] = to_json(drop_gen_.state());
  s["train_loader"] = to_json(train_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["partial"] = {{"loss_sum", totals_.loss_sum},
                  {"correct", totals_.correct},
                  {"seen", totals_.seen},
                  {"train_seconds", totals_.train_seconds}};
  s["last_test"] = {{"acc", last_test_acc_}, {"loss", last_test_loss_}};
  w.save(run_.path());
}

void Trainer::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_train");
  r.load_module("model", *net_);
  r.load_optimizer("optimizer", *optimizer_);
  try {
    scheduler_->load_state_dict(scheduler_state_from_json(s.at("scheduler")));
    drop_gen_.set_state(generator_state_from_json(s.at("drop_path_rng")));
    train_loader_->set_state(loader_state_from_json(s.at("train_loader")));
    epoch_ = json_field<int>(s, "epoch");
    batch_ = json_field<int64_t>(s, "batch");
    const nlohmann::json& p = s.at("partial");
    totals_.loss_sum = json_field<double>(p, "loss_sum");
    totals_.correct = json_field<int64_t>(p, "correct");
    totals_.seen = json_field<int64_t>(p, "seen");
    totals_.train_seconds = json_field<double>(p, "train_seconds");
    last_test_acc_ = json_field<double>(s.at("last_test"), "acc");
    last_test_loss_ = json_field<double>(s.at("last_test"), "loss");
    // Metrics lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  FUSENAS_CHECK(epoch_ >= 0 && epoch_ <= config_.epochs && batch_ >= 0 &&
                    batch_ <= train_loader_->batches_per_epoch(),
                "checkpoint in {} is at epoch {} batch {}, outside this run's {} epochs of {} "
                "batches",
                run_.path(), epoch_, batch_, config_.epochs, train_loader_->batches_per_epoch());
}

}  // namespace fusenas::nas
