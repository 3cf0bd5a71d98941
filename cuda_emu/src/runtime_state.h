// State the runtime shares with the interpreter: the sticky-free last error and launch counting.
#pragma once

#include <cuda_runtime_api.h>

namespace fusenas::emu {

// The error the next cudaGetLastError returns (and clears).
void set_last_error(cudaError_t error);

// Counts a kernel launch (for the emulator's own statistics).
void note_kernel_launch();

}  // namespace fusenas::emu
