// CPU thread count of the engine: its OpenMP loops, which also split large GEMMs.
#pragma once

namespace fusenas {

void set_num_threads(int threads);
int num_threads();

}  // namespace fusenas
