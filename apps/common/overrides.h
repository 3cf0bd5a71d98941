// Flags that override a preset: each flag writes into a scratch config, and only the flags
// actually on the command line are then copied over the preset's values.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fusenas::apps {

// The field `outer.*inner` of a config, for Overrides::add: a member of one of its sections.
template <typename Config, typename Section, typename T>
auto member(Section Config::*outer, T Section::*inner) {
  return [outer, inner](Config& c) -> T& { return (c.*outer).*inner; };
}

template <typename Config>
struct Overrides {
  Config given;
  std::vector<std::pair<CLI::Option*, std::function<void(Config&)>>> fields;

  // `field` is a pointer to a member of Config, or a callable giving a Config's field (member()).
  template <typename Field>
  CLI::Option* add(CLI::App& app, const std::string& name, Field field, const std::string& help) {
    CLI::Option* opt = app.add_option(name, std::invoke(field, given), help);
    fields.push_back(
        {opt, [this, field](Config& c) { std::invoke(field, c) = std::invoke(field, given); }});
    return opt;
  }
  // A switch (`--x,!--no-x`) that sets an int field to 1 or 0.
  template <typename Field>
  CLI::Option* add_switch(CLI::App& app, const std::string& names, Field field,
                          const std::string& help) {
    auto on = std::make_shared<bool>(false);
    CLI::Option* opt = app.add_flag(names, *on, help);
    fields.push_back({opt, [on, field](Config& c) { std::invoke(field, c) = *on ? 1 : 0; }});
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
