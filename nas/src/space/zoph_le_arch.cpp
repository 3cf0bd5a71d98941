// Zoph & Le architectures: the options, the strict reading of points, their JSON and text forms.
#include "fusenas/nas/space/zoph_le_space.h"

#include <fmt/format.h>

#include <algorithm>

#include "fusenas/engine/error.h"
#include "space/json_read.h"

namespace fusenas::nas::space {
namespace {

using detail::element;
using detail::JsonReader;
using detail::member;

constexpr size_t kMaxChoices = 16;
constexpr int64_t kMaxKernel = 11;  // as the chain space's kernels
constexpr int64_t kMaxFilters = 4096;

// A list of 1..16 distinct values in [min, max] (odd ones only where `odd`).
void check_choices(const std::vector<int64_t>& v, const char* field, int64_t min, int64_t max,
                   bool odd) {
  FUSENAS_CHECK(!v.empty() && v.size() <= kMaxChoices,
                "zoph-le options: {} must list 1 to {} values, got {}", field, kMaxChoices,
                v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    FUSENAS_CHECK(v[i] >= min && v[i] <= max,
                  "zoph-le options: {}[{}] must lie in [{}, {}], got {}", field, i, min, max, v[i]);
    FUSENAS_CHECK(!odd || v[i] % 2 == 1, "zoph-le options: {}[{}] must be odd, got {}", field, i,
                  v[i]);
    FUSENAS_CHECK(std::count(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v[i]) == 0,
                  "zoph-le options: {}[{}] = {} is listed twice", field, i, v[i]);
  }
}

}  // namespace

void ZophLeOptions::validate() const {
  FUSENAS_CHECK(layers >= 1 && layers <= 64, "zoph-le options: layers must lie in [1, 64], got {}",
                layers);
  check_choices(heights, "heights", 1, kMaxKernel, true);
  check_choices(widths, "widths", 1, kMaxKernel, true);
  check_choices(filters, "filters", 1, kMaxFilters, false);
  check_choices(strides, "strides", 1, 2, false);
  const bool one_point = layers == 1 && heights.size() == 1 && widths.size() == 1 &&
                         filters.size() == 1 && strides.size() == 1;
  FUSENAS_CHECK(!one_point,
                "zoph-le options: one layer with a single choice of each leaves a single point, "
                "which no mutation can change; give a list two values or use more layers");
}

nlohmann::json ZophLeOptions::to_json() const {
  return {{"layers", layers},
          {"heights", heights},
          {"widths", widths},
          {"filters", filters},
          {"strides", strides}};
}

ZophLeOptions ZophLeOptions::from_json(const nlohmann::json& j) {
  const JsonReader r("zoph-le options", "the object");
  r.object(j, "", {}, {"layers", "heights", "widths", "filters", "strides"});
  ZophLeOptions o;
  if (j.contains("layers")) o.layers = static_cast<int>(r.integer(j["layers"], "layers", 1, 64));
  if (j.contains("heights"))
    o.heights = r.integers(j["heights"], "heights", kMaxChoices, 1, kMaxKernel);
  if (j.contains("widths"))
    o.widths = r.integers(j["widths"], "widths", kMaxChoices, 1, kMaxKernel);
  if (j.contains("filters"))
    o.filters = r.integers(j["filters"], "filters", kMaxChoices, 1, kMaxFilters);
  if (j.contains("strides")) o.strides = r.integers(j["strides"], "strides", kMaxChoices, 1, 2);
  o.validate();
  return o;
}

ZophLeArch ZophLeSpace::arch(const Point& p) const {
  const JsonReader r("zoph-le");
  r.object(p, "", {"layers"});
  const auto n = static_cast<size_t>(options_.layers);
  r.array(p["layers"], "layers", n, n);
  ZophLeArch arch;
  for (size_t l = 0; l < n; ++l) {
    const nlohmann::json& layer = p["layers"][l];
    const std::string where = element("layers", l);
    r.object(layer, where, {"height", "width", "filters", "stride", "skips"});
    ZophLeLayer out;
    out.height = r.choice(layer["height"], member(where, "height"), options_.heights);
    out.width = r.choice(layer["width"], member(where, "width"), options_.widths);
    out.filters = r.choice(layer["filters"], member(where, "filters"), options_.filters);
    out.stride = r.choice(layer["stride"], member(where, "stride"), options_.strides);
    out.skips = r.bits(layer["skips"], member(where, "skips"), l);
    arch.layers.push_back(std::move(out));
  }
  return arch;
}

Point ZophLeSpace::point(const ZophLeArch& arch) {
  nlohmann::json layers = nlohmann::json::array();
  for (const ZophLeLayer& l : arch.layers) {
    const std::vector<int> skips(l.skips.begin(), l.skips.end());
    layers.push_back({{"height", l.height},
                      {"width", l.width},
                      {"filters", l.filters},
                      {"stride", l.stride},
                      {"skips", skips}});
  }
  return {{"layers", std::move(layers)}};
}

std::string to_text(const ZophLeArch& arch) {
  std::vector<std::string> parts;
  for (const ZophLeLayer& l : arch.layers) {
    std::string s = fmt::format("{}x{}x{}", l.height, l.width, l.filters);
    if (l.stride != 1) s += fmt::format("/{}", l.stride);
    std::vector<size_t> from;
    for (size_t j = 0; j < l.skips.size(); ++j)
      if (l.skips[j]) from.push_back(j);
    if (!from.empty()) s += fmt::format(" <- {}", fmt::join(from, " "));
    parts.push_back(std::move(s));
  }
  return fmt::format("{}", fmt::join(parts, " | "));
}

}  // namespace fusenas::nas::space
