// A downscaled model, a fidelity knob of black-box trials: the network a point builds, with its
// channels scaled down (the architecture's shape, its layers and ops, unchanged).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

struct ScaledModel {
  std::shared_ptr<ArchSpace> space;  // the space with its widths scaled
  Point point;                       // the point in it
};

// `factor` in (0, 1] scales the widths: chain: the stem and every layer's filters (and the
// options' filter list), zoph-le: every layer's filters (and the options' list), multibranch:
// every layer's channels, darts-cell: the first cells' C; each rounded to the nearest count the
// space allows (at least 1; even where FactorizedReduce halves it: multibranch channels and
// darts-cell C, at least 2). Factor 1 gives the space and
// point themselves. Throws fusenas::Error for a factor outside (0, 1] or an unknown space.
ScaledModel scale_model(const std::string& space, const nlohmann::json& options, const Point& p,
                        double factor);

}  // namespace fusenas::nas::space
