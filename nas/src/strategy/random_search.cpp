// Random search's proposal: a fresh sample from the space.
#include "fusenas/nas/strategy/random_search.h"

namespace fusenas::nas::strategy {
namespace {

// Redraws of a repeated sample before it is accepted anyway (a space smaller than its budget).
constexpr int kRedraws = 16;

}  // namespace

space::Point RandomSearch::propose(Generator& gen) {
  space::Point p = space().sample(gen);
  for (int i = 0; i < kRedraws && known(p); ++i) p = space().sample(gen);
  return p;
}

}  // namespace fusenas::nas::strategy
