// Checks of the promises every Space makes (space.h), for tests, fuzzing and a run's start-up:
// each throws fusenas::Error naming the space, the promise and the point.
#pragma once

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

// `p` validates, survives a round trip through its JSON text unchanged (and still validates),
// encodes to encoding_size() finite values in [0, 1], and prints as one non-empty line.
void check_point_contract(const Space& space, const Point& p);

// `child` (a mutation of `parent`) keeps the point contract and differs from `parent`. Whether
// exactly one decision changed is the space's own to check: decisions are not JSON fields.
void check_mutation_contract(const Space& space, const Point& parent, const Point& child);

}  // namespace fusenas::nas::space
