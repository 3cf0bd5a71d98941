// The divergence check and its message.
#include "fusenas/nas/run/divergence.h"

#include <fmt/format.h>

#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::nas {

void check_finite(double value, const std::string& what, const RunPoint& at) {
  if (std::isfinite(value)) return;
  const std::string where = at.step > 0 ? fmt::format("epoch {}, step {}", at.epoch, at.step)
                                        : fmt::format("the end of epoch {}", at.epoch);
  // Resuming would replay the same steps from the last checkpoint, so the way out is a new run.
  const char* shown = std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
  FUSENAS_FAIL(
      "diverged: {} is {} at {} (lr {:g}); the run folder keeps its last checkpoint, if it has "
      "one, but resuming would replay the same steps: start a new run with a lower lr",
      what, shown, where, at.lr);
}

}  // namespace fusenas::nas
