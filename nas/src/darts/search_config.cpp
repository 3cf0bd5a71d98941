// DartsConfig: presets, dataset defaults, validation and JSON.
#include "fusenas/nas/darts/search_config.h"

#include <cmath>

#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"

namespace fusenas::nas {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DartsConfig, preset, channels, cells, nodes, ops,
                                                dataset, data_dir, train_subset, train_portion,
                                                crop_padding, flip, epochs, batch_size, lr, lr_min,
                                                momentum, weight_decay, grad_clip, order, arch_lr,
                                                arch_beta1, arch_beta2, arch_weight_decay, seed)

DartsConfig darts_preset(const std::string& name) {
  DartsConfig c;
  c.preset = name;
  if (name == "paper") return c;
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // Sized so a first-order search finishes within 10 minutes on two CPU cores (docs/results.md).
  c.channels = 8;
  c.cells = 5;
  c.batch_size = 32;
  c.train_subset = 3200;
  c.epochs = 4;
  return c;
}

DartsConfig DartsConfig::resolved() const {
  DartsConfig c = *this;
  const bool fashion = dataset == "fashion-mnist";
  if (c.data_dir.empty()) c.data_dir = fashion ? data::kFashionMnistDir : data::kCifar10Dir;
  if (c.ops.empty()) c.ops = darts_primitives();
  if (c.crop_padding < 0) c.crop_padding = fashion ? 0 : 4;
  if (c.flip < 0) c.flip = fashion ? 0 : 1;
  return c;
}

void DartsConfig::validate() const {
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  FUSENAS_CHECK(dataset == "fashion-mnist" || dataset == "cifar10",
                "unknown dataset '{}' (use fashion-mnist or cifar10)", dataset);
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 1, "batch size must be at least 1, got {}", batch_size);
  FUSENAS_CHECK(train_subset >= 0, "train subset must be non-negative (0 = all), got {}",
                train_subset);
  FUSENAS_CHECK(train_portion > 0 && train_portion < 1,
                "train portion must lie strictly between 0 and 1, got {}", train_portion);
  FUSENAS_CHECK(std::isfinite(lr) && lr > 0, "lr must be positive, got {}", lr);
  FUSENAS_CHECK(std::isfinite(lr_min) && lr_min >= 0 && lr_min <= lr,
                "lr-min must lie in [0, lr = {}], got {}", lr, lr_min);
  FUSENAS_CHECK(momentum >= 0 && momentum < 1, "momentum must lie in [0, 1), got {}", momentum);
  FUSENAS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
                "weight decay must be non-negative, got {}", weight_decay);
  FUSENAS_CHECK(std::isfinite(grad_clip) && grad_clip >= 0,
                "grad clip must be non-negative (0 = off), got {}", grad_clip);
  FUSENAS_CHECK(order == 1 || order == 2, "order must be 1 or 2, got {}", order);
  FUSENAS_CHECK(std::isfinite(arch_lr) && arch_lr > 0, "arch lr must be positive, got {}", arch_lr);
  FUSENAS_CHECK(arch_beta1 >= 0 && arch_beta1 < 1 && arch_beta2 >= 0 && arch_beta2 < 1,
                "arch betas must lie in [0, 1), got {} and {}", arch_beta1, arch_beta2);
  FUSENAS_CHECK(std::isfinite(arch_weight_decay) && arch_weight_decay >= 0,
                "arch weight decay must be non-negative, got {}", arch_weight_decay);
  const int64_t size = dataset == "fashion-mnist" ? 28 : 32;
  FUSENAS_CHECK(crop_padding >= -1 && crop_padding <= size,
                "crop padding must lie in [0, {}] pixels, got {}", size, crop_padding);
  FUSENAS_CHECK(flip >= -1 && flip <= 1, "flip must be 0, 1 or -1 (dataset default), got {}", flip);
  space(1, size, 10).validate();
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
  FUSENAS_CHECK(j.is_object(), "search config: expected a JSON object");
  const nlohmann::json known = to_json(DartsConfig{});
  for (const auto& [key, v] : j.items())
    FUSENAS_CHECK(known.contains(key), "search config: unknown key '{}'", key);
  DartsConfig c;
  try {
    from_json(j, c);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("search config: {}", e.what());
  }
  return c;
}

}  // namespace fusenas::nas
