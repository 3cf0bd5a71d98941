// Downscaled models: each space's widths times a factor, the point mapped into the scaled space.
#include "fusenas/nas/space/model_scale.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/zoph_le_space.h"

namespace fusenas::nas::space {
namespace {

int64_t scaled(int64_t width, double factor, int64_t multiple) {
  const auto n = static_cast<int64_t>(std::llround(static_cast<double>(width) * factor / multiple));
  return std::max<int64_t>(1, n) * multiple;
}

}  // namespace

ScaledModel scale_model(const std::string& space, const nlohmann::json& options, const Point& p,
                        double factor) {
  FUSENAS_CHECK(std::isfinite(factor) && factor > 0 && factor <= 1,
                "the model scale must lie in (0, 1], got {}", factor);
  const std::shared_ptr<ArchSpace> full = make_arch_space(space, options);
  full->validate(p);
  if (factor == 1) return {full, p};
  nlohmann::json o = options.is_null() ? nlohmann::json::object() : options;
  Point q = p;
  if (space == "chain") {
    const nlohmann::json defaults = ChainOptions::from_json(o).to_json();
    std::set<int64_t> filters;
    for (const auto& f : defaults.at("filters"))
      filters.insert(scaled(f.get<int64_t>(), factor, 1));
    o["filters"] = std::vector<int64_t>(filters.begin(), filters.end());
    o["stem_channels"] = scaled(defaults.at("stem_channels").get<int64_t>(), factor, 1);
    for (auto& layer : q.at("layers"))
      if (layer.contains("filters"))
        layer["filters"] = scaled(layer["filters"].get<int64_t>(), factor, 1);
  } else if (space == "zoph-le") {
    const nlohmann::json defaults = ZophLeOptions::from_json(o).to_json();
    std::set<int64_t> filters;
    for (const auto& f : defaults.at("filters"))
      filters.insert(scaled(f.get<int64_t>(), factor, 1));
    o["filters"] = std::vector<int64_t>(filters.begin(), filters.end());
    for (auto& layer : q.at("layers"))
      layer["filters"] = scaled(layer["filters"].get<int64_t>(), factor, 1);
  } else if (space == "multibranch") {
    const nlohmann::json defaults = MultiBranchOptions::from_json(o).to_json();
    o["channels"] = scaled(defaults.at("channels").get<int64_t>(), factor, 2);
  } else if (space == "darts-cell") {
    const nlohmann::json defaults = DartsCellOptions::from_json(o).to_json();
    o["init_channels"] = scaled(defaults.at("init_channels").get<int64_t>(), factor, 2);
  } else {
    throw Error(fmt::format("no model scale for the {} space", space));
  }
  std::shared_ptr<ArchSpace> small = make_arch_space(space, o);
  small->validate(q);
  return {small, q};
}

}  // namespace fusenas::nas::space
