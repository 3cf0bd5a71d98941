// SearchSpace: defaults, validation and JSON form.
#include "fusenas/nas/space/search_space.h"

#include <algorithm>
#include <set>

#include "fusenas/engine/error.h"
#include "fusenas/nas/primitives.h"

namespace fusenas::nas {

SearchSpace::SearchSpace() : ops(darts_primitives()) {}

int SearchSpace::op_index(const std::string& name) const {
  const auto it = std::find(ops.begin(), ops.end(), name);
  return it == ops.end() ? -1 : static_cast<int>(it - ops.begin());
}

void SearchSpace::validate() const {
  FUSENAS_CHECK(!ops.empty(), "the search space needs at least one candidate op");
  std::set<std::string> seen;
  for (const auto& op : ops) {
    FUSENAS_CHECK(is_known_op(op), "unknown candidate op '{}'", op);
    FUSENAS_CHECK(seen.insert(op).second, "candidate op '{}' is listed twice", op);
  }
  FUSENAS_CHECK(ops.size() > 1 || ops[0] != "none", "the search space needs an op besides none");
  FUSENAS_CHECK(nodes >= 1 && nodes <= 16, "nodes per cell must lie in [1, 16], got {}", nodes);
  FUSENAS_CHECK(cells >= 3, "cells must be at least 3 (reductions at 1/3 and 2/3), got {}", cells);
  FUSENAS_CHECK(channels >= 2 && channels % 2 == 0,
                "channels must be even and at least 2 (FactorizedReduce halves them), got {}",
                channels);
  FUSENAS_CHECK(stem_multiplier >= 1, "stem multiplier must be at least 1, got {}",
                stem_multiplier);
  FUSENAS_CHECK(in_channels >= 1, "input channels must be at least 1, got {}", in_channels);
  FUSENAS_CHECK(image_size >= 4, "image size must be at least 4, got {}", image_size);
  FUSENAS_CHECK(num_classes >= 2, "classes must be at least 2, got {}", num_classes);
}

nlohmann::json to_json(const SearchSpace& s) {
  return {{"ops", s.ops},
          {"nodes", s.nodes},
          {"cells", s.cells},
          {"channels", s.channels},
          {"stem_multiplier", s.stem_multiplier},
          {"in_channels", s.in_channels},
          {"image_size", s.image_size},
          {"num_classes", s.num_classes}};
}

SearchSpace search_space_from_json(const nlohmann::json& j) {
  SearchSpace s;
  s.ops = j.value("ops", s.ops);
  s.nodes = j.value("nodes", s.nodes);
  s.cells = j.value("cells", s.cells);
  s.channels = j.value("channels", s.channels);
  s.stem_multiplier = j.value("stem_multiplier", s.stem_multiplier);
  s.in_channels = j.value("in_channels", s.in_channels);
  s.image_size = j.value("image_size", s.image_size);
  s.num_classes = j.value("num_classes", s.num_classes);
  return s;
}

}  // namespace fusenas::nas
