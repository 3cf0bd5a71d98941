// LmSearchConfig: the presets, validation and the config.json form.
#include "fusenas/engine/error.h"
#include "fusenas/nas/darts/lm_search.h"
#include "fusenas/nas/rnn/recurrent_genotype.h"
#include "fusenas/nas/run/run_config.h"

namespace fusenas::nas {

// config.json's keys (docs/formats.md), flat. Outside the anonymous namespace, so that
// keys_to_json finds it by argument-dependent lookup.
template <SectionRef<LmSearchConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("task", c.task);
  f("preset", c.preset);
  for_each_key(c.data, f);
  for_each_key(c.lm, f);
  f("steps", c.steps);
  f("epochs", c.epochs);
  for_each_key(c.arch, "arch_", f);
  f("order", c.order);
  f("seed", c.seed);
}

LmSearchConfig lm_search_preset(const std::string& name) {
  LmSearchConfig c;
  c.preset = name;
  if (name == "paper") return c;
  FUSENAS_CHECK(name == "quick", "unknown preset '{}' (use quick or paper)", name);
  // About 4 minutes on two idle CPU cores (docs/results.md): a narrow LM, a capped vocabulary and
  // a cut of the training split, with train_search.py's dropouts and alpha lr. A 10x alpha lr with
  // its h dropout of 0.25 sent the training perplexity up from the second epoch.
  c.lm.hidden = 32;
  c.data.max_vocab = 2000;
  c.data.train_tokens = 240000;
  c.lm.batch_size = 64;
  c.lm.bptt = 20;
  c.epochs = 4;
  return c;
}

LmSearchConfig LmSearchConfig::resolved() const {
  LmSearchConfig c = *this;
  c.data = c.data.resolved();
  return c;
}

void LmSearchConfig::validate() const {
  FUSENAS_CHECK(task == "lm", "task must be \"lm\" in a language-model search config, got \"{}\"",
                task);
  FUSENAS_CHECK(preset == "quick" || preset == "paper", "unknown preset '{}'", preset);
  data.validate();
  FUSENAS_CHECK(data.level == "word" || data.corpus != "ptb", "the ptb corpus is word level");
  lm.validate();
  FUSENAS_CHECK(steps >= 1 && steps <= rnn::kMaxRecurrentSteps,
                "steps (the cell's nodes) must lie in [1, {}], got {}", rnn::kMaxRecurrentSteps,
                steps);
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  arch.validate("arch");
  FUSENAS_CHECK(order == 1 || order == 2, "order must be 1 or 2, got {}", order);
}

nlohmann::json to_json(const LmSearchConfig& c) {
  return keys_to_json(c);
}

LmSearchConfig lm_search_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<LmSearchConfig>(j, "language-model search config");
}

}  // namespace fusenas::nas
