// CPU thread count of the engine. OpenBLAS itself stays single-threaded (see core/blas.cpp).
#include "fusenas/engine/threads.h"

#include <omp.h>

#include "fusenas/engine/error.h"

namespace fusenas {

void set_num_threads(int threads) {
  FUSENAS_CHECK(threads > 0, "set_num_threads: need at least one thread, got {}", threads);
  omp_set_num_threads(threads);
}

int num_threads() {
  return omp_get_max_threads();
}

}  // namespace fusenas
