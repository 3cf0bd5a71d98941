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

// ENAS's code numbers the macro branches conv3, sep3, conv5, sep5, avg, max
// (general_child.py); arc strings use its numbers so they can go to its fixed_arc.
constexpr MacroOp kEnasOrder[kNumMacroOps] = {MacroOp::kConv3x3,    MacroOp::kSepConv3x3,
                                              MacroOp::kConv5x5,    MacroOp::kSepConv5x5,
                                              MacroOp::kAvgPool3x3, MacroOp::kMaxPool3x3};

int enas_index(MacroOp op) {
  for (int i = 0; i < kNumMacroOps; ++i)
    if (kEnasOrder[i] == op) return i;
  FUSENAS_FAIL("macro op value {} is outside 0..{}", static_cast<int>(op), kNumMacroOps - 1);
}

// Arc strings longer than this many layers are refused before any parsing work.
constexpr int kMaxEnasArcLayers = 1000;

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
    v.push_back(enas_index(l.op));
    v.insert(v.end(), l.skips.begin(), l.skips.end());
  }
  return fmt::format("{}", fmt::join(v, " "));
}

MacroArch MacroArch::from_enas_string(const std::string& text) {
  std::vector<int> tokens;
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\r\n", pos);
    if (pos == std::string::npos) break;
    const size_t end = text.find_first_of(" \t\r\n", pos);
    const std::string token = text.substr(pos, end == std::string::npos ? end : end - pos);
    FUSENAS_CHECK(token.size() == 1 && token[0] >= '0' && token[0] <= '9',
                  "ENAS macro arc: value {} ('{}') is not a digit 0..{}", tokens.size() + 1,
                  token.substr(0, 20), kNumMacroOps - 1);
    tokens.push_back(token[0] - '0');
    // L layers take L (L + 1) / 2 values.
    FUSENAS_CHECK(
        tokens.size() <= static_cast<size_t>(kMaxEnasArcLayers) * (kMaxEnasArcLayers + 1) / 2,
        "ENAS macro arc: more than {} layers", kMaxEnasArcLayers);
    if (end == std::string::npos) break;
    pos = end;
  }
  FUSENAS_CHECK(!tokens.empty(), "ENAS macro arc: no values");
  MacroArch arch;
  size_t i = 0;
  for (int l = 0; i < tokens.size(); ++l) {
    FUSENAS_CHECK(tokens[i] < kNumMacroOps, "ENAS macro arc: layer {} has op {}, outside 0..{}", l,
                  tokens[i], kNumMacroOps - 1);
    MacroLayer layer;
    layer.op = kEnasOrder[tokens[i++]];
    FUSENAS_CHECK(i + static_cast<size_t>(l) <= tokens.size(),
                  "ENAS macro arc: {} values end inside layer {} (L layers take L (L + 1) / 2)",
                  tokens.size(), l);
    for (int j = 0; j < l; ++j, ++i) {
      FUSENAS_CHECK(tokens[i] <= 1, "ENAS macro arc: layer {} skip {} is {}, not 0 or 1", l, j,
                    tokens[i]);
      layer.skips.push_back(tokens[i] == 1);
    }
    arch.layers.push_back(std::move(layer));
  }
  arch.validate();
  return arch;
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
