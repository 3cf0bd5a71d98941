// LmTrainConfig: the cell it names, its defaults, validation and the config.json form.
#include "fusenas/nas/train/lm_config.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/run/run_config.h"

namespace fusenas::nas {

// config.json's keys (docs/formats.md), flat. Outside the anonymous namespace, so that
// keys_to_json finds it by argument-dependent lookup.
template <SectionRef<LmTrainConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("task", c.task);
  for_each_key(c.data, f);
  f("arch", c.arch);
  f("arch_file", c.arch_file);
  f("cell", c.cell);
  f("cell_family", c.cell_family);
  for_each_key(c.lm, f);
  f("epochs", c.epochs);
  f("test_batch_size", c.test_batch_size);
  f("nonmono", c.nonmono);
  f("seed", c.seed);
}

rnn::RecurrentArch LmTrainConfig::recurrent_arch() const {
  if (!cell.empty()) {
    rnn::RecurrentArch a = rnn::parse_recurrent_arch(cell);
    FUSENAS_CHECK(cell_family.empty() || cell_family == rnn::family_name(a.family),
                  "the cell is a {} cell, but cell_family says {}", rnn::family_name(a.family),
                  cell_family);
    return a;
  }
  if (!arch_file.empty()) {
    try {
      return rnn::parse_recurrent_arch(io::read_file(arch_file));
    } catch (const Error& e) {
      FUSENAS_FAIL("{}: {}", arch_file, e.what());
    }
  }
  return rnn::builtin_recurrent_arch(arch);
}

LmTrainConfig LmTrainConfig::resolved() const {
  LmTrainConfig c = *this;
  const rnn::RecurrentArch a = recurrent_arch();
  c.cell = a.json;
  c.cell_family = rnn::family_name(a.family);
  if (!c.arch_file.empty()) c.arch.clear();  // the file names the cell, not a built-in
  c.data = c.data.resolved();
  return c;
}

void LmTrainConfig::validate() const {
  FUSENAS_CHECK(task == kLmTask, "task must be \"{}\" in a language-model config, got \"{}\"",
                kLmTask, task);
  data.validate();
  lm.validate();
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(test_batch_size >= 1, "test batch size must be at least 1, got {}",
                test_batch_size);
  FUSENAS_CHECK(nonmono >= 0, "nonmono must be non-negative (0 = SGD only), got {}", nonmono);
  recurrent_arch();  // throws for an unknown built-in or a bad cell file
}

nlohmann::json to_json(const LmTrainConfig& c) {
  return keys_to_json(c);
}

LmTrainConfig lm_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<LmTrainConfig>(j, "language-model config");
}

}  // namespace fusenas::nas
