// darts_search()/darts_resume() and the DartsSearcher's construction: device, data split,
// supernet, optimisers.
#include <fmt/format.h>

#include "fusenas/nas/darts/search.h"

#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/memory_check.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/run/setup.h"
#include "searcher.h"

namespace fusenas::nas {

DartsSearcher::DartsSearcher(const DartsConfig& config, const DartsOptions& options,
                             const std::string& run_dir)
    : config_(config),
      options_(options),
      device_(pick_device(options.device)),
      data_(load_dataset(config_.data.dataset, config_.data.data_dir, true)),
      run_(run_dir),
      log_(run_, options.echo, run_log_file("darts")) {
  use_threads(options_.threads);
  // DARTS draws a fresh random validation batch for every architect step.
  SearchLoaders loaders = make_search_loaders(data_, config_.search_data());
  train_loader_ = std::move(loaders.train);
  val_loader_ = std::move(loaders.val);
  eval_loader_ = std::move(loaders.eval);

  // Each cell keeps at least its inputs and nodes, for the train and the val batch.
  check_fits_in_memory(2 * cell_stack_lower_bound_bytes(
                               config_.batch_size, data_.height(), config_.supernet.channels,
                               config_.supernet.cells, config_.supernet.nodes + 2),
                       device_, fmt::format("a supernet of {} cells", config_.supernet.cells));
  Generator init(config_.seed);
  net_ = std::make_shared<Supernet>(
      config_.space(data_.channels(), data_.height(), data_.num_classes), init);
  net_->set_fused(!options_.composed_cells);
  if (!device_.is_cpu()) net_->to_device(device_);
  optimizer_ = std::make_unique<optim::SGD>(net_->parameters(), config_.sgd.lr,
                                            config_.sgd.momentum, config_.sgd.weight_decay);
  scheduler_ =
      std::make_unique<optim::CosineAnnealingLR>(*optimizer_, config_.epochs, config_.sgd.lr_min);
  architect_ = std::make_unique<Architect>(*net_, *optimizer_, config_.architect());
  if (device_.is_cuda() && !options_.eager) {
    // Replayed steps read the lr and Adam's step count from the device (restore() loads them).
    optimizer_->keep_scalars_on_device();
    architect_->optimizer().keep_scalars_on_device();
    graphs_ = std::make_unique<GraphedStep>(device_);
  }
  const Phase search{"the search", "step", "batch", train_loader_->batches_per_epoch()};
  runner_ = std::make_unique<EpochRunner>(static_cast<RunBody&>(*this), std::vector<Phase>{search},
                                          config_.epochs, run_.path(), log_, options_.progress,
                                          options_.stop_after_steps);
}

DartsResult darts_search(const DartsConfig& config, const DartsOptions& options) {
  return start_run<DartsSearcher>(config, options, "darts");
}

DartsResult darts_resume(const std::string& run_dir, const DartsOptions& options) {
  return resume_run<DartsSearcher>(run_dir, options, "darts", &darts_config_from_json);
}

}  // namespace fusenas::nas
