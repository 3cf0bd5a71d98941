// The evaluation network behind the darts-cell space.
#include "fusenas/nas/space/cell_network.h"

#include "fusenas/engine/error.h"

namespace fusenas::nas::space {

CellNetwork::CellNetwork(const EvalNetworkConfig& config, Generator& gen) {
  FUSENAS_CHECK(!config.auxiliary,
                "CellNetwork: the auxiliary head is not part of a trial's network");
  net_ = register_module("network", std::make_shared<EvalNetwork>(config, gen));
}

}  // namespace fusenas::nas::space
