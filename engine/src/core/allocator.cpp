// The allocator registry and the CPU allocator (64-byte aligned host memory). The CUDA backend's
// caching allocator is installed on first use, so a CPU-only program never touches the driver.
#include "fusenas/engine/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>

#include "fusenas/engine/error.h"

#ifdef FUSENAS_WITH_CUDA
#include "cuda/allocator.h"
#endif

namespace fusenas {
namespace {

// Large blocks are cached by size and reused: a fresh multi-megabyte malloc is an mmap whose
// pages the kernel zero-fills on first touch, which costs more than many of the ops using it.
// Small blocks go straight to malloc, which already recycles them cheaply.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device) override {
    const size_t size = round(nbytes);
    if (size >= kCacheFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_ -= size;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, size);
    FUSENAS_CHECK(p != nullptr, "out of host memory allocating {} bytes", nbytes);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes, Device) override {
    const size_t size = round(nbytes);
    if (size >= kCacheFrom) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + size <= kCacheLimit) {
        free_.emplace(size, ptr);
        cached_ += size;
        return;
      }
    }
    std::free(ptr);
  }

 private:
  static constexpr size_t kCacheFrom = size_t{64} << 10;
  static constexpr size_t kCacheLimit = size_t{2} << 30;

  static size_t round(size_t n) {
    const size_t unit = n >= kCacheFrom ? 4096 : 64;
    return (std::max<size_t>(n, 1) + unit - 1) / unit * unit;
  }

  std::mutex mutex_;
  std::multimap<size_t, void*> free_;
  size_t cached_ = 0;
};

Allocator*& slot(DeviceType type) {
  // Never destroyed: storages held by static objects may be freed after static destruction.
  static auto* cpu = new CpuAllocator();
  static Allocator* slots[2] = {cpu, nullptr};
  return slots[static_cast<int>(type)];
}

}  // namespace

Allocator& allocator_for(DeviceType type) {
#ifdef FUSENAS_WITH_CUDA
  if (type == DeviceType::CUDA && slot(type) == nullptr) {
    static std::once_flag once;
    std::call_once(once, [] { slot(DeviceType::CUDA) = &cuda::caching_allocator(); });
  }
#endif
  Allocator* a = slot(type);
  FUSENAS_CHECK(a != nullptr, "no allocator for device type {}: this build has no CUDA backend",
                static_cast<int>(type));
  return *a;
}

void set_allocator(DeviceType type, Allocator* allocator) {
  slot(type) = allocator;
}

}  // namespace fusenas
