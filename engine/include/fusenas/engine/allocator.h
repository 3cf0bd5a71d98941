// Allocator: raw bytes on one device type, and the registry Storage allocates through (CPU: 64-byte
// aligned host memory; CUDA: the caching allocator, installed on first use).
#pragma once

#include <cstddef>

#include "fusenas/engine/device.h"

namespace fusenas {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes, Device device) = 0;
  virtual void deallocate(void* ptr, size_t nbytes, Device device) = 0;
};

Allocator& allocator_for(DeviceType type);
// Replaces the allocator of `type` (never destroyed by the registry).
void set_allocator(DeviceType type, Allocator* allocator);

}  // namespace fusenas
