// The Space interface's promises, checked on given points.
#include "fusenas/nas/space/space_contract.h"

#include <fmt/format.h>

#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas::space {
namespace {

std::string short_text(const Point& p) {
  const std::string s = p.dump();
  return s.size() <= 200 ? s : s.substr(0, 197) + "...";
}

}  // namespace

void check_point_contract(const Space& space, const Point& p) {
  try {
    space.validate(p);
  } catch (const Error& e) {
    FUSENAS_FAIL("space '{}': point {} does not validate: {}", space.name(), short_text(p),
                 e.what());
  }
  const Point again = nlohmann::json::parse(p.dump());
  FUSENAS_CHECK(again == p, "space '{}': point {} changes through its JSON text", space.name(),
                short_text(p));
  space.validate(again);
  const std::vector<float> v = space.encode(p);
  FUSENAS_CHECK(static_cast<int64_t>(v.size()) == space.encoding_size(),
                "space '{}': encoding of {} entries, encoding_size() says {}", space.name(),
                v.size(), space.encoding_size());
  for (size_t i = 0; i < v.size(); ++i) {
    FUSENAS_CHECK(std::isfinite(v[i]) && v[i] >= 0 && v[i] <= 1,
                  "space '{}': encoding entry {} is {}, outside [0, 1], for {}", space.name(), i,
                  v[i], short_text(p));
  }
  const std::string text = space.to_text(p);
  FUSENAS_CHECK(!text.empty() && text.find('\n') == std::string::npos,
                "space '{}': to_text of {} is not one non-empty line", space.name(), short_text(p));
}

void check_mutation_contract(const Space& space, const Point& parent, const Point& child) {
  check_point_contract(space, child);
  FUSENAS_CHECK(child != parent, "space '{}': a mutation of {} returned it unchanged", space.name(),
                short_text(parent));
}

}  // namespace fusenas::nas::space
