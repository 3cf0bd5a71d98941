// MacroArch validation and its JSON and text forms.
#include "fusenas/nas/enas/macro_arch.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "fusenas/engine/error.h"

namespace fusenas::nas::enas {
namespace {

bool valid_op(MacroOp op) {
  const int v = static_cast<int>(op);
  return v >= 0 && v < kNumMacroOps;
}

}  // namespace

const std::vector<std::string>& macro_op_names() {
  static const std::vector<std::string> names = {"conv_3x3",     "conv_5x5",     "sep_conv_3x3",
                                                 "sep_conv_5x5", "max_pool_3x3", "avg_pool_3x3"};
  return names;
}

std::string_view macro_op_name(MacroOp op) {
  FUSENAS_CHECK(valid_op(op), "macro op value {} is outside 0..{}", static_cast<int>(op),
                kNumMacroOps - 1);
  return macro_op_names()[static_cast<size_t>(op)];
}

MacroOp macro_op_from_name(std::string_view name) {
  const auto& names = macro_op_names();
  const auto it = std::find(names.begin(), names.end(), name);
  FUSENAS_CHECK(it != names.end(), "unknown macro op '{}' (known: {})", name,
                fmt::join(names, ", "));
  return static_cast<MacroOp>(it - names.begin());
}

int MacroArch::num_skips() const {
  int n = 0;
  for (const MacroLayer& l : layers)
    n += static_cast<int>(std::count(l.skips.begin(), l.skips.end(), true));
  return n;
}

void MacroArch::validate() const {
  FUSENAS_CHECK(!layers.empty(), "macro arch: no layers");
  for (size_t l = 0; l < layers.size(); ++l) {
    FUSENAS_CHECK(valid_op(layers[l].op), "macro arch: layer {} has op value {}, outside 0..{}", l,
                  static_cast<int>(layers[l].op), kNumMacroOps - 1);
    FUSENAS_CHECK(layers[l].skips.size() == l,
                  "macro arch: layer {} has {} skip entries, but it needs exactly {} (one per "
                  "earlier layer)",
                  l, layers[l].skips.size(), l);
  }
}

std::string MacroArch::to_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (const MacroLayer& l : layers) {
    std::vector<int> skips(l.skips.begin(), l.skips.end());
    a.push_back({{"op", macro_op_name(l.op)}, {"skips", skips}});
  }
  return nlohmann::json{{"layers", a}}.dump();
}

MacroArch MacroArch::from_json(const std::string& text) {
  MacroArch arch;
  try {
    const auto j = nlohmann::json::parse(text);
    FUSENAS_CHECK(j.is_object() && j.contains("layers") && j["layers"].is_array(),
                  "malformed macro arch JSON: expected {{\"layers\": [...]}}");
    for (const auto& l : j["layers"]) {
      MacroLayer layer;
      layer.op = macro_op_from_name(l.at("op").get<std::string>());
      for (const auto& s : l.at("skips")) {
        const bool is_bit = s.is_boolean() || (s.is_number_integer() && (s == 0 || s == 1));
        FUSENAS_CHECK(is_bit, "malformed macro arch JSON: layer {} has skip entry {}, not 0 or 1",
                      arch.layers.size(), s.dump());
        layer.skips.push_back(s.is_boolean() ? s.get<bool>() : s.get<int>() == 1);
      }
      arch.layers.push_back(std::move(layer));
    }
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("malformed macro arch JSON: {}", e.what());
  }
  arch.validate();
  return arch;
}

std::string MacroArch::to_text() const {
  std::string s;
  for (size_t l = 0; l < layers.size(); ++l) {
    std::vector<size_t> from;
    for (size_t j = 0; j < layers[l].skips.size(); ++j) {
      if (layers[l].skips[j]) from.push_back(j);
    }
    s += fmt::format("layer {}: {}", l, macro_op_name(layers[l].op));
    if (!from.empty()) s += fmt::format(", skips from {}", fmt::join(from, " "));
    s += "\n";
  }
  return s;
}

std::string MacroArch::to_enas_string() const {
  std::vector<int> v;
  for (const MacroLayer& l : layers) {
    v.push_back(static_cast<int>(l.op));
    v.insert(v.end(), l.skips.begin(), l.skips.end());
  }
  return fmt::format("{}", fmt::join(v, " "));
}

std::string MacroArch::to_dot() const {
  std::string s =
      "digraph \"macro architecture\" {\n  rankdir=TB;\n  label=\"macro architecture\";\n"
      "  node [style=\"rounded,filled\", shape=rect, fontname=\"helvetica\"];\n"
      "  input [fillcolor=darkseagreen2];\n  output [fillcolor=palegoldenrod];\n";
  for (size_t l = 0; l < layers.size(); ++l) {
    s += fmt::format("  layer_{} [label=\"{}: {}\", fillcolor=lightblue];\n", l, l,
                     macro_op_name(layers[l].op));
    s += l == 0 ? "  input -> layer_0;\n" : fmt::format("  layer_{} -> layer_{};\n", l - 1, l);
    for (size_t j = 0; j < layers[l].skips.size(); ++j) {
      if (layers[l].skips[j])
        s += fmt::format("  layer_{} -> layer_{} [style=dashed, color=gray];\n", j, l);
    }
  }
  if (!layers.empty()) s += fmt::format("  layer_{} -> output;\n", layers.size() - 1);
  return s + "}\n";
}

}  // namespace fusenas::nas::enas
