// CPU thread count of the engine (OpenMP loops and OpenBLAS GEMMs together).
#pragma once

namespace fusenas {

void set_num_threads(int threads);
int num_threads();

}  // namespace fusenas
