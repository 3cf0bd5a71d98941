// The architecture-space factory.
#include "fusenas/nas/space/make_space.h"

#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/zoph_le_space.h"

namespace fusenas::nas::space {

const std::vector<std::string>& arch_space_names() {
  static const std::vector<std::string> names = {"darts-cell", "chain", "multibranch", "zoph-le"};
  return names;
}

std::shared_ptr<ArchSpace> make_arch_space(const std::string& name, const nlohmann::json& options) {
  if (name == "darts-cell")
    return std::make_shared<DartsCellSpace>(DartsCellOptions::from_json(options));
  if (name == "chain") return std::make_shared<ChainSpace>(ChainOptions::from_json(options));
  if (name == "multibranch")
    return std::make_shared<MultiBranchSpace>(MultiBranchOptions::from_json(options));
  if (name == "zoph-le") return std::make_shared<ZophLeSpace>(ZophLeOptions::from_json(options));
  FUSENAS_FAIL("unknown search space '{}' (known: {})", name.substr(0, 40),
               fmt::join(arch_space_names(), ", "));
}

}  // namespace fusenas::nas::space
