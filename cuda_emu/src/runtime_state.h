// State the runtime shares with the interpreter: the (non-sticky) last error.
#pragma once

#include <cuda_runtime_api.h>

namespace fusenas::emu {

// The error the next cudaGetLastError returns (and clears).
void set_last_error(cudaError_t error);

}  // namespace fusenas::emu
