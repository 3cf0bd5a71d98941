// DartsConfig: presets, dataset defaults, validation and JSON.
#include "fusenas/nas/darts/search_config.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"
#include "fusenas/nas/run/run_config.h"

namespace fusenas::nas {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DartsConfig, preset, channels, cells, nodes, ops,
                                                dataset, data_dir, train_subset, train_portion,
                                                crop_padding, flip, epochs, batch_size, lr, lr_min,
                                                momentum, weight_decay, grad_clip, order,
                                                warmup_epochs, arch_lr, arch_beta1, arch_beta2,
                                                arch_weight_decay, seed)

DartsConfig darts_preset(const std::string& name) {
  DartsConfig c;
  c.preset = name;
  if (name == "paper") return c;
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // About two minutes on two CPU cores. Its 250 architect steps get DARTS's alpha budget
  // (Adam moves an alpha by at most about lr per step: 19,550 steps x 3e-4 = 5.9 in the paper,
  // 250 x 2e-2 = 5.0 here), after 3 warm-up epochs of weights only (docs/cli.md).
  c.channels = 8;
  c.cells = 5;
  c.batch_size = 32;
  c.train_subset = 3200;
  c.epochs = 8;
  c.warmup_epochs = 3;
  c.arch_lr = 2e-2;
  return c;
}

DartsConfig DartsConfig::resolved() const {
  DartsConfig c = *this;
  resolve_data_defaults(c.dataset, c.data_dir, c.crop_padding, c.flip);
  if (c.ops.empty()) c.ops = darts_primitives();
  return c;
}

SearchDataConfig DartsConfig::data() const {
  return {dataset, train_subset, train_portion, batch_size, seed, crop_padding, flip};
}

void DartsConfig::validate() const {
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  data().validate();
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 1, "batch size must be at least 1, got {}", batch_size);
  validate_sgd(lr, lr_min, momentum, weight_decay, grad_clip);
  FUSENAS_CHECK(order == 1 || order == 2, "order must be 1 or 2, got {}", order);
  FUSENAS_CHECK(warmup_epochs >= 0 && warmup_epochs < epochs,
                "warm-up epochs must lie in [0, epochs) = [0, {}), got {}", epochs, warmup_epochs);
  FUSENAS_CHECK(std::isfinite(arch_lr) && arch_lr > 0, "arch lr must be positive, got {}", arch_lr);
  FUSENAS_CHECK(arch_beta1 >= 0 && arch_beta1 < 1 && arch_beta2 >= 0 && arch_beta2 < 1,
                "arch betas must lie in [0, 1), got {} and {}", arch_beta1, arch_beta2);
  FUSENAS_CHECK(std::isfinite(arch_weight_decay) && arch_weight_decay >= 0,
                "arch weight decay must be non-negative, got {}", arch_weight_decay);
  space(1, dataset == "fashion-mnist" ? 28 : 32, 10).validate();
}

SearchSpace DartsConfig::space(int64_t in_channels, int64_t image_size, int64_t num_classes) const {
  SearchSpace s;
  if (!ops.empty()) s.ops = ops;
  s.nodes = nodes;
  s.cells = cells;
  s.channels = channels;
  s.in_channels = in_channels;
  s.image_size = image_size;
  s.num_classes = num_classes;
  return s;
}

ArchitectConfig DartsConfig::architect() const {
  return {order, arch_lr, arch_beta1, arch_beta2, arch_weight_decay};
}

nlohmann::json to_json(const DartsConfig& c) {
  nlohmann::json j;
  to_json(j, c);
  return j;
}

DartsConfig darts_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<DartsConfig>(j, "search config");
}

}  // namespace fusenas::nas
