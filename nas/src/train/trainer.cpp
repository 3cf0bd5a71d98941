// train()/resume()/dry_run_summary() and the Trainer's construction: device, threads, data
// loaders, network (train_network.h), optimizer and schedule.
#include "fusenas/nas/train/trainer.h"

#include <fmt/format.h>

#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "train_network.h"
#include "trainer_impl.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kDropPathStream = 0x64726f70ULL;  // "drop"
// Evaluation runs without gradients, so a larger batch only amortises per-op overhead.
constexpr int64_t kEvalBatch = 250;

}  // namespace

Trainer::Trainer(const TrainConfig& config, const TrainOptions& options, const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      train_data_(load_dataset(config_.data.dataset, config_.data.data_dir, true)),
      test_data_(load_dataset(config_.data.dataset, config_.data.data_dir, false)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("train")),
      drop_gen_(data::mix_seed(config.seed, kDropPathStream, 0)) {
  use_threads(options_.threads);
  setup_data();
  setup_model();
  Phase training{"training", "batch", "batch", train_loader_->batches_per_epoch()};
  training.unit = "img";
  runner_ = std::make_unique<EpochRunner>(static_cast<RunBody&>(*this),
                                          std::vector<Phase>{training}, config_.epochs, run_.path(),
                                          log_, options_.progress, options_.stop_after_steps);
}

void Trainer::setup_data() {
  data::LoaderConfig train;
  train.batch_size = config_.batch_size;
  train.shuffle = true;
  train.seed = config_.seed;
  train.max_samples = config_.data.train_subset;
  train.transform.crop_padding = config_.data.crop_padding;
  train.transform.flip = config_.data.flip == 1;
  train.transform.cutout_length = config_.cutout;
  train_loader_ = std::make_unique<data::DataLoader>(train_data_, train);

  data::LoaderConfig test;
  test.batch_size = kEvalBatch;
  test.shuffle = false;
  test.max_samples = config_.test_subset;
  test_loader_ = std::make_unique<data::DataLoader>(test_data_, test);
}

void Trainer::setup_model() {
  check_train_network_fits(config_, device_);
  Generator init(config_.seed);
  net_ = build_train_network(config_, train_data_.num_classes, init);
  if (!device_.is_cpu()) net_.module->to(device_);
  params_ = net_.module->parameters();
  optimizer_ = std::make_unique<optim::SGD>(params_, config_.sgd.lr, config_.sgd.momentum,
                                            config_.sgd.weight_decay, /*nesterov=*/false);
  // DARTS train.py: CosineAnnealingLR(T_max=epochs), stepped once per epoch.
  scheduler_ =
      std::make_unique<optim::CosineAnnealingLR>(*optimizer_, config_.epochs, config_.sgd.lr_min);
}

TrainResult train(const TrainConfig& config, const TrainOptions& options) {
  return start_run<Trainer>(config, options, "train");
}

TrainResult resume(const std::string& run_dir, const TrainOptions& options) {
  return resume_run<Trainer>(run_dir, options, "train", &train_config_from_json);
}

std::string dry_run_summary(const TrainConfig& config) {
  const TrainConfig c = checked_config(config);
  Generator init(c.seed);
  const TrainNetwork net = build_train_network(c, 10, init);
  std::string s = network_summary(c, net);
  if (net.cells && c.auxiliary > 0)
    s += fmt::format("auxiliary head: {} params (not counted below)\n",
                     net.cells->num_parameters(true) - net.params);
  s += fmt::format("params: {}\n", net.params);
  return s;
}

}  // namespace fusenas::nas
