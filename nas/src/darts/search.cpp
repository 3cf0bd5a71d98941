// darts_search()/darts_resume() and the DartsSearcher's construction: device, data split,
// supernet, optimisers.
#include "fusenas/nas/darts/search.h"

#include <filesystem>

#include "fusenas/engine/data/split.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/setup.h"
#include "searcher.h"

namespace fusenas::nas {
namespace {

// Evaluation runs without gradients, so a larger batch only amortises per-op overhead.
constexpr int64_t kEvalBatch = 250;
constexpr uint64_t kValOrderStream = 0x76616cULL;  // "val"

DartsConfig checked(const DartsConfig& config) {
  config.validate();
  DartsConfig c = config.resolved();
  c.validate();
  return c;
}

}  // namespace

DartsSearcher::DartsSearcher(const DartsConfig& config, const DartsOptions& options,
                             const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      data_(load_dataset(config_.dataset, config_.data_dir, true)),
      run_(run_dir),
      log_(run_, options.echo, "search.log") {
  use_threads(options_.threads);
  const int64_t n =
      config_.train_subset > 0 ? std::min(config_.train_subset, data_.size()) : data_.size();
  const data::Split split = data::split_train_val(n, config_.train_portion);
  FUSENAS_CHECK(!split.train.empty() && !split.val.empty(),
                "{} training images split by portion {} leave an empty side", n,
                config_.train_portion);
  data::LoaderConfig train;
  train.batch_size = config_.batch_size;
  train.seed = config_.seed;
  train.transform.crop_padding = config_.crop_padding;
  train.transform.flip = config_.flip == 1;
  // DARTS draws a fresh random validation batch for every architect step.
  data::LoaderConfig val = train;
  val.seed = config_.seed ^ kValOrderStream;
  data::LoaderConfig eval;
  eval.batch_size = kEvalBatch;
  eval.shuffle = false;
  train_loader_ = std::make_unique<data::DataLoader>(data_, train, split.train);
  val_loader_ = std::make_unique<data::DataLoader>(data_, val, split.val);
  eval_loader_ = std::make_unique<data::DataLoader>(data_, eval, split.val);

  Generator init(config_.seed);
  net_ = std::make_shared<Supernet>(
      config_.space(data_.channels(), data_.height(), data_.num_classes), init);
  if (!device_.is_cpu()) net_->to_device(device_);
  optimizer_ = std::make_unique<optim::SGD>(net_->parameters(), config_.lr, config_.momentum,
                                            config_.weight_decay);
  scheduler_ =
      std::make_unique<optim::CosineAnnealingLR>(*optimizer_, config_.epochs, config_.lr_min);
  architect_ = std::make_unique<Architect>(*net_, *optimizer_, config_.architect());
}

DartsResult darts_search(const DartsConfig& config, const DartsOptions& options) {
  const DartsConfig c = checked(config);
  const std::string out = options.out_dir.empty() ? default_run_dir("darts") : options.out_dir;
  check_new_run_dir(out);
  DartsSearcher searcher(c, options, out);
  const RunDir run(out);
  // Leftovers of a run that died before its first checkpoint.
  run.truncate_to("metrics.jsonl", 0);
  run.truncate_to("alphas.jsonl", 0);
  run.write_json("config.json", to_json(c));
  return searcher.run();
}

DartsResult darts_resume(const std::string& run_dir, const DartsOptions& options) {
  const DartsConfig c = checked(darts_config_from_json(read_run_config(run_dir)));
  CheckpointReader::load(run_dir);  // fail on a bad checkpoint before loading any data
  DartsSearcher searcher(c, options, run_dir);
  searcher.restore();
  return searcher.run();
}

}  // namespace fusenas::nas
