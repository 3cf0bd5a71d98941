// enas_search()/enas_resume() and the EnasSearcher's construction: device, data split, the
// shared-weight child, its SGD, the controller and its REINFORCE trainer.
#include "fusenas/nas/enas/search.h"

#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "searcher.h"

namespace fusenas::nas::enas {
namespace {

constexpr uint64_t kControllerStream = 0x63746cULL;  // "ctl"

}  // namespace

EnasSearcher::EnasSearcher(const EnasConfig& config, const EnasOptions& options,
                           const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      data_(load_dataset(config_.data.dataset, config_.data.data_dir, true)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("enas")) {
  use_threads(options_.threads);
  SearchLoaders loaders = make_search_loaders(data_, config_.search_data());
  train_loader_ = std::move(loaders.train);
  val_loader_ = std::move(loaders.val);
  eval_loader_ = std::move(loaders.eval);

  Generator init(config_.seed);
  if (config_.micro()) {
    micro_space_ = config_.micro_space(data_.channels(), data_.height(), data_.num_classes);
    micro_net_ = std::make_shared<Supernet>(micro_space_, init);
    micro_net_->set_fused(!options_.composed_cells);
    if (!device_.is_cpu()) micro_net_->to_device(device_);
    child_ = micro_net_.get();
  } else {
    macro_net_ = std::make_shared<MacroSupernet>(
        config_.macro_space(data_.channels(), data_.num_classes), init);
    if (!device_.is_cpu()) macro_net_->to(device_);
    child_ = macro_net_.get();
  }
  optim::SGDOptions sgd;
  sgd.momentum = config_.sgd.momentum;
  sgd.weight_decay = config_.sgd_weight_decay();
  sgd.nesterov = config_.nesterov;
  optimizer_ = std::make_unique<optim::SGD>(child_->parameters(), config_.lr_at(0), sgd);
  // The controller is small and sequential: it stays on the CPU whatever the device.
  auto controller = std::make_shared<Controller>(config_.controller(), init);
  trainer_ = std::make_unique<ReinforceTrainer>(controller, config_.reinforce(),
                                                config_.seed ^ kControllerStream);
  Phase shared{"shared-weight training", "shared step", "batch",
               train_loader_->batches_per_epoch()};
  shared.unit = "img";
  Phase control{"controller training", "controller step", "controller_step",
                config_.controller_steps};
  control.training = false;
  control.bar_label = "controller";
  runner_ = std::make_unique<EpochRunner>(
      static_cast<RunBody&>(*this), std::vector<Phase>{shared, control}, config_.epochs,
      run_.path(), log_, options_.progress, options_.stop_after_steps);
}

EnasResult enas_search(const EnasConfig& config, const EnasOptions& options) {
  return start_run<EnasSearcher>(config, options, "enas");
}

EnasResult enas_resume(const std::string& run_dir, const EnasOptions& options) {
  return resume_run<EnasSearcher>(run_dir, options, "enas", &enas_config_from_json);
}

}  // namespace fusenas::nas::enas
