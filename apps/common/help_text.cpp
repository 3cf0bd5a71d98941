// Defaults in --help: shortest numbers and labelled preset values.
#include "help_text.h"

#include <cstdlib>

namespace fusenas::apps {

std::string help_number(double v) {
  const std::string plain = fmt::format("{}", v);  // the shortest that reads back
  std::string sci;
  for (int digits = 0; digits <= 17; ++digits) {
    sci = fmt::format("{:.{}e}", v, digits);
    if (std::strtod(sci.c_str(), nullptr) == v) break;
  }
  // 3.0e-04 reads as 3e-4.
  const size_t e = sci.find('e');
  std::string exponent = sci.substr(e + 2);
  while (exponent.size() > 1 && exponent.front() == '0') exponent.erase(0, 1);
  sci = sci.substr(0, e) + (sci[e + 1] == '-' ? "e-" : "e") + exponent;
  return sci.size() < plain.size() ? sci : plain;
}

std::string help_default(const std::vector<std::pair<std::string, std::string>>& values) {
  bool same = true;
  for (const auto& [label, value] : values) same = same && value == values.front().second;
  if (same) return values.empty() ? "" : values.front().second;
  std::vector<std::string> parts;
  for (const auto& [label, value] : values) parts.push_back(label + " " + value);
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace fusenas::apps
