// DartsConfig: presets, dataset defaults, validation and JSON.
#include "fusenas/nas/darts/search_config.h"

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"
#include "fusenas/nas/run/run_config.h"

namespace fusenas::nas {

// config.json's keys (docs/formats.md), flat: the sections' and DARTS's own. Outside an anonymous
// namespace, so that keys_to_json finds it by argument-dependent lookup.
template <SectionRef<DartsConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("preset", c.preset);
  for_each_key(c.supernet, f);
  for_each_key(c.data, f);
  f("epochs", c.epochs);
  f("batch_size", c.batch_size);
  for_each_key(c.sgd, f);
  f("order", c.order);
  f("warmup_epochs", c.warmup_epochs);
  for_each_key(c.arch, "arch_", f);
  f("seed", c.seed);
}

DartsConfig darts_preset(const std::string& name) {
  DartsConfig c;
  c.preset = name;
  if (name == "paper") return c;
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // About two minutes on two CPU cores. Its 250 architect steps get DARTS's alpha budget
  // (Adam moves an alpha by at most about lr per step: 19,550 steps x 3e-4 = 5.9 in the paper,
  // 250 x 2e-2 = 5.0 here), after 3 warm-up epochs of weights only (docs/cli.md).
  c.supernet.channels = 8;
  c.supernet.cells = 5;
  c.batch_size = 32;
  c.data.train_subset = 3200;
  c.epochs = 8;
  c.warmup_epochs = 3;
  c.arch.lr = 2e-2;
  return c;
}

DartsConfig DartsConfig::resolved() const {
  DartsConfig c = *this;
  c.data = c.data.resolved();
  if (c.supernet.ops->empty()) c.supernet.ops = darts_primitives();
  return c;
}

SearchDataConfig DartsConfig::search_data() const {
  return {data, batch_size, seed};
}

void DartsConfig::validate() const {
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  supernet.validate();
  data.validate();
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 1, "batch size must be at least 1, got {}", batch_size);
  sgd.validate();
  FUSENAS_CHECK(order == 1 || order == 2, "order must be 1 or 2, got {}", order);
  FUSENAS_CHECK(warmup_epochs >= 0 && warmup_epochs < epochs,
                "warm-up epochs must lie in [0, epochs) = [0, {}), got {}", epochs, warmup_epochs);
  arch.validate("arch");
  space(1, data.image_size(), 10).validate();
}

SearchSpace DartsConfig::space(int64_t in_channels, int64_t image_size, int64_t num_classes) const {
  SearchSpace s;
  if (supernet.ops && !supernet.ops->empty()) s.ops = *supernet.ops;
  s.nodes = supernet.nodes;
  s.cells = supernet.cells;
  s.channels = supernet.channels;
  s.in_channels = in_channels;
  s.image_size = image_size;
  s.num_classes = num_classes;
  return s;
}

ArchitectConfig DartsConfig::architect() const {
  return {arch, order};
}

nlohmann::json to_json(const DartsConfig& c) {
  return keys_to_json(c);
}

DartsConfig darts_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<DartsConfig>(j, "search config");
}

}  // namespace fusenas::nas
