// Random search: the baseline every NAS paper should report.
#pragma once

#include "fusenas/nas/strategy/strategy.h"

namespace fusenas::nas::strategy {

// Samples from the space's own prior. A sample that was already evaluated or is pending is drawn
// again (a few times), so small spaces do not spend trials on repeats.
class RandomSearch : public Strategy {
 public:
  RandomSearch(const space::Space& space, uint64_t seed) : Strategy(space, seed) {}
  std::string name() const override { return "random"; }

 protected:
  space::Point propose(Generator& gen) override;
};

}  // namespace fusenas::nas::strategy
