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
  w.add_module("model", *net_.module);
  w.add_optimizer("optimizer", *optimizer_);
  nlohmann::json& s = w.state();
  s["format"] = kFormat;
  s["version"] = kVersion;
  runner_->save_position(s);
  s["scheduler"] = to_json(scheduler_->state_dict());
  s["drop_path_rng"] = to_json(drop_gen_.state());
  s["train_loader"] = to_json(train_loader_->state());
  s["metrics_bytes"] = run_.size_of("metrics.jsonl");
  s["last_test"] = {{"acc", last_test_acc_}, {"loss", last_test_loss_}};
  w.save(run_.path());
}

void Trainer::restore() {
  const CheckpointReader r = CheckpointReader::load(run_.path());
  const nlohmann::json& s = r.state();
  check_checkpoint_format(r, kFormat, kVersion, "nas_train");
  r.load_module("model", *net_.module);
  r.load_optimizer("optimizer", *optimizer_);
  try {
    scheduler_->load_state_dict(scheduler_state_from_json(s.at("scheduler")));
    drop_gen_.set_state(generator_state_from_json(s.at("drop_path_rng")));
    train_loader_->set_state(loader_state_from_json(s.at("train_loader")));
    last_test_acc_ = json_field<double>(s.at("last_test"), "acc");
    last_test_loss_ = json_field<double>(s.at("last_test"), "loss");
    // Metrics lines written after the checkpoint belong to work that will be redone.
    run_.truncate_to("metrics.jsonl", json_field<uint64_t>(s, "metrics_bytes"));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("checkpoint in {} is incomplete: {}", run_.path(), e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}/checkpoint.json: {}", run_.path(), e.what());
  }
  runner_->restore_position(s);
}

}  // namespace fusenas::nas
