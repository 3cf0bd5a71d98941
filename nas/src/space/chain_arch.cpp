// Chain architectures: the rules, their checks and the JSON and text forms.
#include "fusenas/nas/space/chain_arch.h"

#include <fmt/format.h>

#include <algorithm>

#include "fusenas/engine/error.h"
#include "space/json_read.h"

namespace fusenas::nas::space {
namespace {

using detail::element;
using detail::JsonReader;
using detail::member;

constexpr std::string_view kTypeNames[kNumChainLayerTypes] = {"conv", "sep_conv", "max_pool",
                                                              "avg_pool", "identity"};

// Options lists of sizes and counts: distinct values within [1, max].
void check_choices(const std::vector<int64_t>& v, const char* field, int64_t max, bool odd) {
  FUSENAS_CHECK(!v.empty() && v.size() <= 16, "chain options: {} must list 1 to 16 values, got {}",
                field, v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    FUSENAS_CHECK(v[i] >= 1 && v[i] <= max, "chain options: {}[{}] must lie in [1, {}], got {}",
                  field, i, max, v[i]);
    FUSENAS_CHECK(!odd || v[i] % 2 == 1, "chain options: {}[{}] must be odd, got {}", field, i,
                  v[i]);
    FUSENAS_CHECK(std::count(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v[i]) == 0,
                  "chain options: {}[{}] = {} is listed twice", field, i, v[i]);
  }
}

}  // namespace

std::string_view chain_layer_type_name(ChainLayerType t) {
  const int i = static_cast<int>(t);
  FUSENAS_CHECK(i >= 0 && i < kNumChainLayerTypes, "chain layer type value {} is outside 0..{}", i,
                kNumChainLayerTypes - 1);
  return kTypeNames[i];
}

bool has_kernel(ChainLayerType t) {
  return t != ChainLayerType::kIdentity;
}

bool has_filters(ChainLayerType t) {
  return t == ChainLayerType::kConv || t == ChainLayerType::kSepConv;
}

int ChainArch::reductions() const {
  return static_cast<int>(std::count_if(layers.begin(), layers.end(),
                                        [](const ChainLayer& l) { return l.stride == 2; }));
}

void ChainOptions::validate() const {
  FUSENAS_CHECK(max_layers >= 1 && max_layers <= 64,
                "chain options: max_layers must lie in [1, 64], got {}", max_layers);
  check_choices(filters, "filters", 4096, false);
  check_choices(kernels, "kernels", 11, true);
  FUSENAS_CHECK(max_reductions >= 0 && max_reductions <= max_layers,
                "chain options: max_reductions must lie in [0, max_layers = {}], got {}",
                max_layers, max_reductions);
  FUSENAS_CHECK(stem_channels >= 1 && stem_channels <= 4096,
                "chain options: stem_channels must lie in [1, 4096], got {}", stem_channels);
}

nlohmann::json ChainOptions::to_json() const {
  return {{"max_layers", max_layers},
          {"filters", filters},
          {"kernels", kernels},
          {"max_reductions", max_reductions},
          {"stem_channels", stem_channels}};
}

ChainOptions ChainOptions::from_json(const nlohmann::json& j) {
  const JsonReader r("chain options", "the object");
  r.object(j, "", {}, {"max_layers", "filters", "kernels", "max_reductions", "stem_channels"});
  ChainOptions o;
  if (j.contains("max_layers"))
    o.max_layers = static_cast<int>(r.integer(j["max_layers"], "max_layers", 1, 64));
  if (j.contains("filters")) o.filters = r.integers(j["filters"], "filters", 16, 1, 4096);
  if (j.contains("kernels")) o.kernels = r.integers(j["kernels"], "kernels", 16, 1, 4096);
  if (j.contains("max_reductions"))
    o.max_reductions = static_cast<int>(r.integer(j["max_reductions"], "max_reductions", 0, 64));
  if (j.contains("stem_channels"))
    o.stem_channels = r.integer(j["stem_channels"], "stem_channels", 1, 4096);
  o.validate();
  return o;
}

ChainArch chain_arch_from_json(const nlohmann::json& j, const ChainOptions& options) {
  const JsonReader r("chain");
  r.object(j, "", {"layers"});
  const nlohmann::json& layers = j["layers"];
  r.array(layers, "layers", 1, static_cast<size_t>(options.max_layers));
  ChainArch arch;
  for (size_t i = 0; i < layers.size(); ++i) {
    const nlohmann::json& l = layers[i];
    const std::string where = element("layers", i);
    r.object(l, where, {"type"}, {"kernel", "filters", "stride"});
    const std::string name = r.string(l["type"], member(where, "type"));
    const auto* it = std::find(std::begin(kTypeNames), std::end(kTypeNames), name);
    if (it == std::end(kTypeNames)) {
      r.fail(member(where, "type"),
             fmt::format("must be one of {}, got {}", fmt::join(kTypeNames, ", "),
                         detail::describe(l["type"])));
    }
    ChainLayer layer;
    layer.type = static_cast<ChainLayerType>(it - std::begin(kTypeNames));
    // Each type holds exactly the keys it uses, so one architecture has one JSON form.
    const auto key_rule = [&](const char* key, bool used) {
      if (used && !l.contains(key))
        r.fail(where, fmt::format("({}) is missing the key '{}'", name, key));
      if (!used && l.contains(key)) {
        r.fail(where, fmt::format("({}) has the key '{}'; {} layers take only {}", name, key, name,
                                  has_filters(layer.type)  ? "type, kernel, filters and stride"
                                  : has_kernel(layer.type) ? "type, kernel and stride"
                                                           : "type"));
      }
    };
    key_rule("kernel", has_kernel(layer.type));
    key_rule("filters", has_filters(layer.type));
    key_rule("stride", has_kernel(layer.type));
    if (has_kernel(layer.type)) {
      layer.kernel = r.choice(l["kernel"], member(where, "kernel"), options.kernels);
      layer.stride = r.choice(l["stride"], member(where, "stride"), {1, 2});
    }
    if (has_filters(layer.type))
      layer.filters = r.choice(l["filters"], member(where, "filters"), options.filters);
    arch.layers.push_back(layer);
  }
  if (arch.reductions() > options.max_reductions) {
    r.fail("layers", fmt::format("have {} stride-2 layers; at most {} are allowed",
                                 arch.reductions(), options.max_reductions));
  }
  return arch;
}

nlohmann::json to_json(const ChainArch& arch) {
  nlohmann::json layers = nlohmann::json::array();
  for (const ChainLayer& l : arch.layers) {
    nlohmann::json o = {{"type", chain_layer_type_name(l.type)}};
    if (has_kernel(l.type)) {
      o["kernel"] = l.kernel;
      o["stride"] = l.stride;
    }
    if (has_filters(l.type)) o["filters"] = l.filters;
    layers.push_back(std::move(o));
  }
  return {{"layers", std::move(layers)}};
}

std::string to_text(const ChainArch& arch) {
  std::vector<std::string> parts;
  for (const ChainLayer& l : arch.layers) {
    std::string s(chain_layer_type_name(l.type));
    if (has_kernel(l.type)) s += fmt::format("{}x{}", l.kernel, l.kernel);
    if (has_filters(l.type)) s += fmt::format("x{}", l.filters);
    if (l.stride == 2) s += "/2";
    parts.push_back(std::move(s));
  }
  return fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace fusenas::nas::space
