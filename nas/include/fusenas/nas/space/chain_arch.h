// The chain-structured layer space's architectures (the lecture's left picture): a sequence of
// layers, each a type, a kernel, a filter count and a stride, with the rules that keep every one
// buildable, and their JSON form.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fusenas::nas::space {

// conv: ReLU, k x k conv to `filters` channels, BN. sep_conv: ReLU, depthwise k x k, 1x1 conv to
// `filters` channels, BN. Pools: k x k. Every layer pads k / 2, so a layer of stride s maps n
// pixels to ceil(n / s) and no map falls below 1 pixel.
enum class ChainLayerType : int { kConv, kSepConv, kMaxPool, kAvgPool, kIdentity };
inline constexpr int kNumChainLayerTypes = 5;

// "conv", "sep_conv", "max_pool", "avg_pool", "identity".
std::string_view chain_layer_type_name(ChainLayerType t);
// Whether the type has a kernel (all but identity) and a filter count (the two convolutions;
// pools and identity keep their input's channels).
bool has_kernel(ChainLayerType t);
bool has_filters(ChainLayerType t);

struct ChainLayer {
  ChainLayerType type = ChainLayerType::kConv;
  int64_t kernel = 0;   // 0 for identity
  int64_t filters = 0;  // 0 unless conv or sep_conv
  int64_t stride = 1;   // 1 for identity
  friend bool operator==(const ChainLayer&, const ChainLayer&) = default;
};

struct ChainArch {
  std::vector<ChainLayer> layers;
  int reductions() const;  // stride-2 layers
  friend bool operator==(const ChainArch&, const ChainArch&) = default;
};

struct ChainOptions {
  int max_layers = 8;  // in [1, 64]; a point has 1..max_layers layers
  std::vector<int64_t> filters = {16, 32, 64};
  std::vector<int64_t> kernels = {3, 5};  // odd, so padding k / 2 keeps the map centred
  // At most this many stride-2 layers: 3 take a 28- or 32-pixel input down to 4 x 4, and more
  // would leave the last layers a map of 1 or 2 pixels, mostly padding.
  int max_reductions = 3;
  // The fixed stem before the layers: 3x3 conv (stride 1) to stem_channels, BN.
  int64_t stem_channels = 16;

  // Throws fusenas::Error naming the field and the rule for the first bad value.
  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static ChainOptions from_json(const nlohmann::json& j);
};

// {"layers": [{"type": "conv", "kernel": 3, "filters": 32, "stride": 2},
//             {"type": "max_pool", "kernel": 3, "stride": 1}, {"type": "identity"}]}
// A layer holds exactly the keys its type uses. Throws fusenas::Error naming the field and the
// rule for anything else (types, ranges, keys, the layer count, the stride-2 count).
ChainArch chain_arch_from_json(const nlohmann::json& j, const ChainOptions& options);
nlohmann::json to_json(const ChainArch& arch);
// "conv3x3x32/2 max_pool3x3 identity"
std::string to_text(const ChainArch& arch);

}  // namespace fusenas::nas::space
