// How --help states defaults: numbers in their shortest form (3e-4, 0.025), and the defaults of
// several presets side by side, each with its label.
#pragma once

#include <fmt/format.h>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fusenas::apps {

// The shorter of the plain and the exponent form that reads back as `v`: 0.025, 3e-4, 5.
std::string help_number(double v);

template <typename T>
std::string help_value(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    return help_number(v);
  } else {
    return fmt::format("{}", v);
  }
}

// "v" when every label has the same value v, else "label1 v1, label2 v2, ...".
std::string help_default(const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace fusenas::apps
