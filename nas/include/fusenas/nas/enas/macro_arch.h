// MacroArch: an ENAS macro-space architecture (L layers, each an op plus skip connections from
// every earlier layer), its validation and its JSON and text forms.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fusenas::nas::enas {

// The 6 ops of the ENAS macro space, in ENAS's order (the controller's op index is this value).
enum class MacroOp : int { kConv3x3, kConv5x5, kSepConv3x3, kSepConv5x5, kMaxPool3x3, kAvgPool3x3 };
inline constexpr int kNumMacroOps = 6;

// "conv_3x3", "conv_5x5", "sep_conv_3x3", "sep_conv_5x5", "max_pool_3x3", "avg_pool_3x3".
std::string_view macro_op_name(MacroOp op);
// Throws fusenas::Error naming the known ops for an unknown name.
MacroOp macro_op_from_name(std::string_view name);
const std::vector<std::string>& macro_op_names();

// Layer l applies `op` and adds the outputs of every earlier layer j with skips[j] set;
// skips.size() == l.
struct MacroLayer {
  MacroOp op = MacroOp::kConv3x3;
  std::vector<bool> skips;
  friend bool operator==(const MacroLayer&, const MacroLayer&) = default;
};

struct MacroArch {
  std::vector<MacroLayer> layers;

  int num_layers() const { return static_cast<int>(layers.size()); }
  int num_skips() const;
  // Throws fusenas::Error for no layers, an op value outside MacroOp, or a layer whose skip vector
  // does not have one entry per earlier layer.
  void validate() const;

  // {"layers": [{"op": "conv_3x3", "skips": []}, {"op": ..., "skips": [1]}, ...]}, skips as 0/1
  // (true/false are accepted on input); from_json validates.
  std::string to_json() const;
  static MacroArch from_json(const std::string& json);

  // One line per layer: "layer 3: sep_conv_5x5, skips from 0 2".
  std::string to_text() const;
  // ENAS's arc string, as its fixed_arc takes it: per layer the op in ENAS's numbering (0 conv3,
  // 1 sep3, 2 conv5, 3 sep5, 4 avg pool, 5 max pool) followed by its skip bits, space-separated.
  std::string to_enas_string() const;
  // The inverse; the layer count follows from the number of values (L layers take L (L + 1) / 2).
  // Throws fusenas::Error naming the value and the rule for anything else.
  static MacroArch from_enas_string(const std::string& text);
  // A Graphviz digraph: the input, one box per layer labelled with its op, the chain and the
  // skips (dashed), and the output.
  std::string to_dot() const;

  friend bool operator==(const MacroArch&, const MacroArch&) = default;
};

}  // namespace fusenas::nas::enas
