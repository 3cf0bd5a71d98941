// CPU thread count of the engine: OpenMP and OpenBLAS are kept equal so they never oversubscribe.
#include "fusenas/engine/threads.h"

#include <omp.h>

#include "core/blas.h"
#include "fusenas/engine/error.h"

namespace fusenas {

void set_num_threads(int threads) {
  FUSENAS_CHECK(threads > 0, "set_num_threads: need at least one thread, got {}", threads);
  omp_set_num_threads(threads);
  set_blas_threads(threads);
}

int num_threads() {
  return omp_get_max_threads();
}

}  // namespace fusenas
