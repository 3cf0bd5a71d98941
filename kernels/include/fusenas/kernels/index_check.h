// Raw kernel that records the first int64 index outside [0, limit): the device side of the label
// and index checks of cross_entropy and embedding, read back later by the engine (no host wait).
#pragma once

#include "fusenas/kernels/launch.h"

namespace fusenas::kernels {

// The first bad entry any check found since the record was last cleared (all zero = none).
struct IndexErrorRecord {
  long long check = 0;  // the engine's id of the check that found it (ids start at 1)
  long long position = 0;
  long long value = 0;
};

// When indices[0, n) holds an entry outside [0, limit) and `record` is still clear, writes the
// first such entry with `check` into it. One block, stream-ordered: the earliest failing check on
// the stream is the one kept.
cudaError_t record_first_out_of_range(int64_t n, const int64_t* indices, int64_t limit,
                                      long long check, IndexErrorRecord* record,
                                      cudaStream_t stream);

}  // namespace fusenas::kernels
