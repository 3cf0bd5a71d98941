// Flags that override a preset: each flag writes into a scratch config, and only the flags
// actually on the command line are then copied over the preset's values.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fusenas::apps {

template <typename Config>
struct Overrides {
  Config given;
  std::vector<std::pair<CLI::Option*, std::function<void(Config&)>>> fields;

  template <typename T>
  CLI::Option* add(CLI::App& app, const std::string& name, T Config::*field,
                   const std::string& help) {
    CLI::Option* opt = app.add_option(name, given.*field, help);
    fields.push_back({opt, [this, field](Config& c) { c.*field = given.*field; }});
    return opt;
  }
  void apply(Config& c) const {
    for (const auto& [opt, copy] : fields) {
      if (opt->count() > 0) copy(c);
    }
  }
  bool any() const {
    for (const auto& [opt, copy] : fields) {
      if (opt->count() > 0) return true;
    }
    return false;
  }
};

}  // namespace fusenas::apps
