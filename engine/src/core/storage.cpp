// Storage lifetime and the per-device allocator registry (CPU: 64-byte aligned host memory).
#include "fusenas/engine/storage.h"

#include <cstdlib>

#include "fusenas/engine/error.h"

#ifdef FUSENAS_WITH_CUDA
#include "cuda/allocator.h"
#endif

namespace fusenas {
namespace {

class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    const size_t rounded = (std::max<size_t>(nbytes, 1) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, rounded);
    FUSENAS_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
    return p;
  }
  void deallocate(void* ptr, size_t, Device) override { std::free(ptr); }
};

Allocator*& slot(DeviceType type) {
  static CpuAllocator cpu;
  static Allocator* slots[2] = {&cpu, nullptr};
  return slots[static_cast<int>(type)];
}

}  // namespace

Allocator& allocator_for(DeviceType type) {
#ifdef FUSENAS_WITH_CUDA
  if (type == DeviceType::CUDA && slot(type) == nullptr) cuda::install_caching_allocator();
#endif
  Allocator* a = slot(type);
  FUSENAS_CHECK(a != nullptr, "no allocator for device type {}: this build has no CUDA backend",
                static_cast<int>(type));
  return *a;
}

void set_allocator(DeviceType type, Allocator* allocator) {
  slot(type) = allocator;
}

Storage::Storage(size_t nbytes, Device device)
    : data_(allocator_for(device.type).allocate(nbytes, device)),
      nbytes_(nbytes),
      device_(device),
      owned_(true) {}

Storage::Storage(void* data, size_t nbytes, Device device, Deleter deleter)
    : data_(data), nbytes_(nbytes), device_(device), owned_(false), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (owned_) {
    allocator_for(device_.type).deallocate(data_, nbytes_, device_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

}  // namespace fusenas
