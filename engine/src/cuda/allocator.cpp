// Caching CUDA allocator: freed blocks are kept by size and reused, so steady-state training never
// calls cudaMalloc. Graph capture routes allocations to a pool private to the graph. With caching
// off (FUSENAS_CUDA_NO_CACHING=1), every tensor outside capture gets its own exact-size cudaMalloc
// and frees it at once, so a memory checker sees each tensor's true bounds.
//
// During stream capture the pool may still need a new block. cudaMalloc is a "potentially unsafe"
// call there: under the default capture modes CUDA refuses it and invalidates the capture, so the
// call runs with this thread switched to relaxed capture mode, as PyTorch's and NCCL's allocators
// do. Freeing (cudaFree, the out-of-memory retry, empty_cache) never happens while capturing.
#include "cuda/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/check.h"
#include "cuda/context.h"

namespace fusenas::cuda {

struct PrivatePool {
  int device = 0;
  std::multimap<size_t, void*> free_blocks;
  int64_t live_blocks = 0;  // handed out and not yet returned
};

namespace {

constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t(2) << 20;

size_t round_size(size_t n) {
  if (n == 0) n = 1;
  const size_t unit = n <= kSmallLimit ? kSmallRound : kLargeRound;
  return (n + unit - 1) / unit * unit;
}

struct Block {
  size_t size = 0;
  std::shared_ptr<PrivatePool> pool;  // null for the shared cache
  bool exact = false;                 // an uncached exact-size allocation
};

// Whether the engine stream of `device` is capturing into a graph.
bool stream_capturing(int device) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  FUSENAS_CUDA_CHECK(cudaStreamIsCapturing(context(device).stream, &status));
  return status != cudaStreamCaptureStatusNone;
}

// cudaMalloc with this thread in relaxed capture mode for the one call.
cudaError_t malloc_while_capturing(void** ptr, size_t size) {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  FUSENAS_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  const cudaError_t err = cudaMalloc(ptr, size);
  FUSENAS_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
  return err;
}

// Frees without throwing (deallocation runs in destructors); a failure is cleared from the
// last-error slot so that no later launch is blamed for it.
void free_quietly(void* ptr) {
  if (cudaFree(ptr) != cudaSuccess) cudaGetLastError();
}

bool caching_from_environment() {
  const char* v = std::getenv("FUSENAS_CUDA_NO_CACHING");
  return v == nullptr || v[0] == '\0' || v[0] == '0';
}

struct DeviceState {
  std::multimap<size_t, void*> free_blocks;
  std::unordered_map<void*, Block> live;
  std::shared_ptr<PrivatePool> capture_pool;
  MemoryStats stats;
};

class CachingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes, Device device) override {
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceState& st = state(device.index);
    // A graph replays its captured addresses, so capture always draws on its private pool.
    const bool exact = !caching_ && !st.capture_pool;
    size_t size = exact ? std::max<size_t>(nbytes, 1) : round_size(nbytes);
    auto& pool = st.capture_pool ? st.capture_pool->free_blocks : st.free_blocks;
    void* ptr = exact ? nullptr : take(pool, size);  // may hand out a larger block: size grows
    if (!ptr) ptr = fresh(st, device.index, size, nbytes);
    st.live[ptr] = Block{size, st.capture_pool, exact};
    if (st.capture_pool) st.capture_pool->live_blocks++;
    st.stats.current_bytes += static_cast<int64_t>(size);
    st.stats.peak_bytes = std::max(st.stats.peak_bytes, st.stats.current_bytes);
    st.stats.cached_bytes = cached(st);
    if (poison_) {
      // 0xFF bytes are NaN in float32 and float64; the engine stream orders it before any use.
      FUSENAS_CUDA_CHECK(cudaMemsetAsync(ptr, 0xFF, size, context(device.index).stream));
    }
    return ptr;
  }

  void set_poison(bool poison) { poison_ = poison; }
  void set_caching(bool caching) {
    std::lock_guard<std::mutex> lock(mutex_);
    caching_ = caching;
  }
  bool caching() {
    std::lock_guard<std::mutex> lock(mutex_);
    return caching_;
  }

  void deallocate(void* ptr, size_t, Device device) override {
    // Dropping the last reference to a private pool runs its deleter, which takes the lock:
    // hold that reference until the lock is released.
    std::shared_ptr<PrivatePool> pool_ref;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      DeviceState& st = state(device.index);
      auto it = st.live.find(ptr);
      if (it == st.live.end()) return;  // not ours; never happens for engine storage
      const size_t size = it->second.size;
      const bool exact = it->second.exact;
      pool_ref = std::move(it->second.pool);
      st.live.erase(it);
      st.stats.current_bytes -= static_cast<int64_t>(size);
      // cudaFree synchronises the device, which would break a capture in progress.
      if (exact && !capture_active()) {
        if (cudaSetDevice(device.index) != cudaSuccess) cudaGetLastError();
        free_quietly(ptr);
      } else if (pool_ref) {
        pool_ref->live_blocks--;
        pool_ref->free_blocks.emplace(size, ptr);
      } else {
        st.free_blocks.emplace(size, ptr);
      }
      st.stats.cached_bytes = cached(st);
    }
  }

  MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return state(device).stats;
  }

  void reset_peak(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& st = state(device);
    st.stats.peak_bytes = st.stats.current_bytes;
  }

  void empty(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (capture_active()) return;  // cudaFree would break the capture; the cache stays
    auto& st = state(device);
    release_all(st.free_blocks, device);
    st.stats.cached_bytes = cached(st);
  }

  void set_capture_pool(int device, std::shared_ptr<PrivatePool> pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    state(device).capture_pool = std::move(pool);
  }

  void release_pool(PrivatePool& pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    release_all(pool.free_blocks, pool.device);
  }

 private:
  DeviceState& state(int device) {
    if (device >= static_cast<int>(devices_.size())) devices_.resize(device + 1);
    return devices_[device];
  }

  // A cached block for `size` bytes, or null; `size` becomes the block's own size, which the
  // block keeps when it comes back (recording the request would shrink it a little every reuse).
  static void* take(std::multimap<size_t, void*>& pool, size_t& size) {
    auto it = pool.lower_bound(size);
    // Only reuse a block that is not wastefully large for this request.
    if (it == pool.end() || it->first > 2 * size) return nullptr;
    void* ptr = it->second;
    size = it->first;
    pool.erase(it);
    return ptr;
  }

  void* fresh(DeviceState& st, int device, size_t size, size_t requested) {
    FUSENAS_CUDA_CHECK(cudaSetDevice(device));
    const bool capturing = stream_capturing(device);
    void* ptr = nullptr;
    cudaError_t err = capturing ? malloc_while_capturing(&ptr, size) : cudaMalloc(&ptr, size);
    if (err == cudaErrorMemoryAllocation && !capturing) {
      cudaGetLastError();
      release_all(st.free_blocks, device);  // give cached memory back and retry once
      err = cudaMalloc(&ptr, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      FUSENAS_CHECK(err == cudaErrorMemoryAllocation, "CUDA error {} in cudaMalloc of {} bytes{}",
                    cudaGetErrorString(err), requested, capturing ? " during graph capture" : "");
      size_t free_bytes = 0, total = 0;
      if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) cudaGetLastError();
      FUSENAS_FAIL(
          "CUDA out of memory on device {}: requested {} bytes, {} bytes free of {}, peak use {} "
          "bytes{}",
          device, requested, free_bytes, total, st.stats.peak_bytes,
          capturing ? " (during graph capture: the cache could not be released)" : "");
    }
    st.stats.malloc_calls++;
    return ptr;
  }

  static void release_all(std::multimap<size_t, void*>& pool, int device) {
    if (pool.empty()) return;
    if (cudaSetDevice(device) != cudaSuccess) cudaGetLastError();
    for (auto& [size, ptr] : pool) free_quietly(ptr);
    pool.clear();
  }

  static int64_t cached(const DeviceState& st) {
    int64_t n = 0;
    for (const auto& [size, ptr] : st.free_blocks) n += static_cast<int64_t>(size);
    return n;
  }

  std::mutex mutex_;
  std::vector<DeviceState> devices_;
  bool poison_ = false;
  bool caching_ = caching_from_environment();
};

CachingAllocator& instance() {
  static auto* a =
      new CachingAllocator();  // never destroyed: storage may outlive static destruction
  return *a;
}

}  // namespace

Allocator& caching_allocator() {
  return instance();
}

std::shared_ptr<PrivatePool> make_private_pool(int device) {
  // Live blocks hold references too, so the deleter runs once the graph and all its tensors are
  // gone: then every block is back in free_blocks and goes back to the driver.
  auto pool = std::shared_ptr<PrivatePool>(new PrivatePool(), [](PrivatePool* p) {
    instance().release_pool(*p);
    delete p;
  });
  pool->device = device;
  return pool;
}

void begin_private_pool(int device, const std::shared_ptr<PrivatePool>& pool) {
  instance().set_capture_pool(device, pool);
}
void end_private_pool(int device) {
  instance().set_capture_pool(device, nullptr);
}

MemoryStats memory_stats(int device) {
  return instance().stats(device);
}
void reset_peak_memory(int device) {
  instance().reset_peak(device);
}
void empty_cache(int device) {
  instance().empty(device);
}
void set_poison_allocations(bool poison) {
  instance().set_poison(poison);
}
void set_memory_caching(bool caching) {
  instance().set_caching(caching);
}
bool memory_caching() {
  return instance().caching();
}

}  // namespace fusenas::cuda
