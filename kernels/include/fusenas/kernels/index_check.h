// Raw kernel that finds the first int64 index outside [0, limit): the device side of the label and
// index checks whose contracts report the offending position.
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// Sets *first_bad to the smallest i with indices[i] outside [0, limit), or to kNoBadIndex when
// there is none. first_bad is device memory; the launcher resets it first (stream-ordered).
constexpr unsigned long long kNoBadIndex = ~0ull;
cudaError_t find_first_out_of_range(int64_t n, const int64_t* indices, int64_t limit,
                                    unsigned long long* first_bad, cudaStream_t stream);

}  // namespace fusenas::kernels
