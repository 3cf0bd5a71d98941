// Refusing a network that cannot fit before any of it is allocated: a lower bound on its
// activation memory against what the machine has, so `--layers 100000` fails in a second with
// the figures instead of after minutes with std::bad_alloc (or never, swapping).
#pragma once

#include <cstdint>
#include <string>

#include "fusenas/engine/device.h"

namespace fusenas::nas {

// A lower bound on the bytes one training step of a DARTS-layout network (cells with reductions
// at 1/3 and 2/3, channels doubling and the image halving at each) keeps for its backward pass:
// each cell holds at least `states_per_cell` float maps of its own size per image.
double cell_stack_lower_bound_bytes(int64_t batch, int64_t image_size, int64_t channels,
                                    int64_t cells, int64_t states_per_cell);

// Memory a run can take: MemAvailable (else physical memory) on the CPU; 0 when unknown, as for
// CUDA devices, whose memory this does not check.
double available_memory_bytes(Device device);

// Throws "<what> needs at least X GB ... only Y GB is available" when the bound exceeds it.
void check_fits_in_memory(double lower_bound_bytes, Device device, const std::string& what);

}  // namespace fusenas::nas
