// Caching CUDA allocator: freed blocks are kept by size and reused, so steady-state training never
// calls cudaMalloc. Graph capture routes allocations to a pool private to the graph.
#pragma once

#include <cstddef>
#include <memory>

#include "fusenas/engine/allocator.h"
#include "fusenas/engine/cuda.h"

namespace fusenas::cuda {

struct PrivatePool;

// The caching allocator, which the allocator registry installs for DeviceType::CUDA.
Allocator& caching_allocator();

// While a private pool is active on a device, its allocations come from (and return to) that pool.
std::shared_ptr<PrivatePool> make_private_pool(int device);
void begin_private_pool(int device, const std::shared_ptr<PrivatePool>& pool);
void end_private_pool(int device);

}  // namespace fusenas::cuda
