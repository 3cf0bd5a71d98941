// EnasConfig: presets, dataset defaults, the lr schedule, validation and JSON.
#include "fusenas/nas/enas/search_config.h"

#include <cmath>
#include <numbers>

#include "fusenas/engine/error.h"

namespace fusenas::nas::enas {

// config.json's keys (docs/formats.md), flat: the sections' and ENAS's own. Outside an anonymous
// namespace, so that keys_to_json finds it by argument-dependent lookup.
template <SectionRef<EnasConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("space", c.space);
  f("preset", c.preset);
  for_each_key(c.supernet, f);
  for_each_key(c.data, f);
  f("epochs", c.epochs);
  f("batch_size", c.batch_size);
  for_each_key(c.sgd, f);
  f("lr_t0", c.lr_t0);
  f("lr_tmul", c.lr_tmul);
  f("nesterov", c.nesterov);
  f("controller_steps", c.controller_steps);
  f("samples_per_step", c.samples_per_step);
  for_each_key(c.controller_adam, "controller_", f);
  f("controller_hidden", c.controller_hidden);
  f("entropy_weight", c.entropy_weight);
  f("baseline_decay", c.baseline_decay);
  f("tanh_constant", c.tanh_constant);
  f("op_tanh_reduce", c.op_tanh_reduce);
  f("skip_target", c.skip_target);
  f("skip_weight", c.skip_weight);
  f("derive_samples", c.derive_samples);
  f("seed", c.seed);
}

EnasConfig enas_preset(const std::string& name, const std::string& space) {
  FUSENAS_CHECK(space == "micro" || space == "macro", "unknown space '{}' (use micro or macro)",
                space);
  FUSENAS_CHECK(name == "quick" || name == "paper", "unknown preset '{}' (use quick or paper)",
                name);
  EnasConfig c;
  c.space = space;
  c.preset = name;
  if (space == "macro") {
    // ENAS's scripts/cifar10_macro_search.sh.
    c.supernet.channels = 36;
    c.supernet.cells = 12;
    c.batch_size = 128;
    c.epochs = 310;
    c.sgd.weight_decay = 2.5e-4;
    c.controller_adam.lr = 1e-3;
    c.controller_steps = 50;
    c.samples_per_step = 20;
    c.tanh_constant = 1.5;
  }
  if (name == "paper") return c;
  // Sized so the search finishes in a few minutes on two CPU cores (docs/results.md).
  c.supernet.channels = space == "macro" ? 16 : 8;
  c.supernet.cells = space == "macro" ? 12 : 5;
  c.batch_size = 32;
  c.data.train_subset = 10000;
  c.epochs = 5;
  c.lr_t0 = 0;
  // With 5 epochs the controller gets 300 steps (ENAS's micro search takes 4,500): at 10 per
  // epoch its entropy never moved from the untrained value; at 60 it falls from 57.2 to 51.0 and
  // the mean reward rises from 0.21 to 0.62 (0.41 with 10 steps), docs/results.md.
  c.controller_steps = 60;
  c.samples_per_step = 10;
  c.derive_samples = 20;
  return c;
}

EnasConfig EnasConfig::resolved() const {
  EnasConfig c = *this;
  c.data = c.data.resolved();
  return c;
}

SearchDataConfig EnasConfig::search_data() const {
  // Every reward is one search-val batch: full ones, so rewards compare, and not augmented, as
  // ENAS's validation pipeline has no crop or flip.
  return {data, batch_size, seed, true, false};
}

void EnasConfig::validate() const {
  FUSENAS_CHECK(space == "micro" || space == "macro", "unknown space '{}' (use micro or macro)",
                space);
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}' (use quick or paper)",
                preset);
  supernet.validate();
  data.validate();
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 2, "batch size must be at least 2 (batch statistics), got {}",
                batch_size);
  sgd.validate();
  FUSENAS_CHECK(lr_t0 >= 0, "lr-t0 must be non-negative (0 = no restarts), got {}", lr_t0);
  FUSENAS_CHECK(lr_tmul >= 1, "lr-tmul must be at least 1, got {}", lr_tmul);
  FUSENAS_CHECK(!nesterov || sgd.momentum > 0, "Nesterov momentum needs a momentum above 0");
  FUSENAS_CHECK(controller_steps >= 0, "controller steps must be non-negative, got {}",
                controller_steps);
  FUSENAS_CHECK(derive_samples >= 1, "derive samples must be at least 1, got {}", derive_samples);
  if (micro()) {
    micro_space(1, data.image_size(), 10).validate();
  } else {
    macro_space(1, 10).validate();
  }
  controller_adam.validate("controller");
  controller().validate();
  reinforce().validate();
}

ControllerConfig EnasConfig::controller() const {
  ControllerConfig c = micro() ? ControllerConfig::micro() : ControllerConfig::macro();
  c.hidden_size = controller_hidden;
  c.num_nodes = supernet.nodes;
  c.num_layers = supernet.cells;
  c.tanh_constant = tanh_constant;
  if (micro()) c.op_tanh_reduce = op_tanh_reduce;
  c.skip_target = skip_target;
  return c;
}

double EnasConfig::sgd_weight_decay() const {
  return 2 * sgd.weight_decay;
}

bool EnasConfig::rewards_use_batch_statistics() const {
  return micro();
}

ReinforceConfig EnasConfig::reinforce() const {
  ReinforceConfig r;
  static_cast<AdamSection&>(r) = controller_adam;
  r.entropy_weight = entropy_weight;
  r.baseline_decay = baseline_decay;
  r.skip_weight = skip_weight;
  r.samples_per_step = samples_per_step;
  return r;
}

nas::SearchSpace EnasConfig::micro_space(int64_t in_channels, int64_t image_size,
                                         int64_t num_classes) const {
  return micro_search_space(supernet.cells, supernet.nodes, supernet.channels, in_channels,
                            image_size, num_classes);
}

MacroSpace EnasConfig::macro_space(int64_t in_channels, int64_t num_classes) const {
  return {supernet.cells, supernet.channels, in_channels, num_classes};
}

double EnasConfig::lr_at(int epoch) const {
  // ENAS's cosine: the position inside the current cycle of length T_i (T_0, T_0 * T_mul, ...).
  int64_t t = epoch, period = lr_t0 > 0 ? lr_t0 : epochs;
  while (lr_t0 > 0 && t >= period) {
    t -= period;
    period *= lr_tmul;
  }
  const double ratio = static_cast<double>(t) / static_cast<double>(period);
  return sgd.lr_min + 0.5 * (sgd.lr - sgd.lr_min) * (1.0 + std::cos(std::numbers::pi * ratio));
}

nlohmann::json to_json(const EnasConfig& c) {
  return keys_to_json(c);
}

EnasConfig enas_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<EnasConfig>(j, "search config");
}

}  // namespace fusenas::nas::enas
