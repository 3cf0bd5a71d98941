// Architecture spaces by name, with their options as JSON (what a config's space section holds).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

// "darts-cell", "chain", "multibranch", "zoph-le".
const std::vector<std::string>& arch_space_names();

// The named space built from `options` (an object of that space's option keys, read strictly by
// DartsCellOptions / ChainOptions / MultiBranchOptions / ZophLeOptions::from_json; missing keys
// keep their defaults). Throws fusenas::Error naming the known spaces for an unknown name.
std::shared_ptr<ArchSpace> make_arch_space(
    const std::string& name, const nlohmann::json& options = nlohmann::json::object());

}  // namespace fusenas::nas::space
