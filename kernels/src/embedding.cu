// Raw embedding kernels. The backward never adds floats atomically: a stable radix sort groups
// equal indices (in position order), then one thread per weight element sums its group, so the
// result is deterministic and bit-identical to the CPU's sequential scatter-add. The sort looks at
// the low bits only, so out-of-range indices are first mapped to the one key v (sorted last and
// skipped): with their own high bits they would interleave with, and split, the runs of valid rows.
#include <cub/device/device_radix_sort.cuh>

#include "common.cuh"
#include "fusenas/kernels/embedding.h"

namespace fusenas::kernels {
namespace {

template <typename T>
__global__ void gather_kernel(int64_t n, int64_t v, int64_t d, const T* weight,
                              const int64_t* indices, T* out) {
  for (int64_t i = detail::thread_index(); i < n * d; i += detail::thread_count()) {
    const int64_t j = i / d;
    const int64_t row = indices[j];
    out[i] = row >= 0 && row < v ? weight[row * d + (i - j * d)] : detail::quiet_nan<T>();
  }
}

// Sort input: keys in [0, v] (v for every index outside [0, v)) and their positions.
__global__ void keys_kernel(int n, int64_t v, const int64_t* indices, unsigned long long* keys,
                            int* order) {
  for (int64_t i = detail::thread_index(); i < n; i += detail::thread_count()) {
    const int64_t row = indices[i];
    keys[i] = static_cast<unsigned long long>(row >= 0 && row < v ? row : v);
    order[i] = static_cast<int>(i);
  }
}

// Run [begin[r], end[r]) of the sorted keys holds weight row r; rows not indexed keep [0, 0).
// The key v (indices outside [0, v), whose check reports them later) is skipped.
__global__ void run_bounds_kernel(int n, int64_t v, const unsigned long long* keys, int* begin,
                                  int* end) {
  for (int64_t s = detail::thread_index(); s < n; s += detail::thread_count()) {
    const unsigned long long key = keys[s];
    if (key >= static_cast<unsigned long long>(v)) continue;
    if (s == 0 || keys[s - 1] != key) begin[key] = static_cast<int>(s);
    if (s == n - 1 || keys[s + 1] != key) end[key] = static_cast<int>(s + 1);
  }
}

template <typename T>
__global__ void run_sum_kernel(int64_t v, int64_t d, const T* gy, const int* order,
                               const int* begin, const int* end, T* gweight) {
  for (int64_t i = detail::thread_index(); i < v * d; i += detail::thread_count()) {
    const int64_t row = i / d, col = i - row * d;
    T acc = T(0);
    for (int s = begin[row]; s < end[row]; ++s) acc += gy[static_cast<int64_t>(order[s]) * d + col];
    gweight[i] = acc;
  }
}

// Bits that hold every key in [0, v].
int key_bits(int64_t v) {
  int bits = 1;
  while (bits < 63 && (int64_t(1) << bits) <= v) ++bits;
  return bits;
}

size_t align_up(size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

// The workspace, carved into aligned pieces.
struct Scratch {
  unsigned long long* keys_in = nullptr;
  unsigned long long* keys = nullptr;
  int* order_in = nullptr;
  int* order = nullptr;
  int* begin = nullptr;
  int* end = nullptr;
  void* sort_temp = nullptr;
  size_t sort_bytes = 0;
  size_t total = 0;
};

Scratch carve(int64_t n, int64_t v, void* base) {
  Scratch s;
  size_t sort_bytes = 0;
  cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, static_cast<const unsigned long long*>(nullptr),
      static_cast<unsigned long long*>(nullptr), static_cast<const int*>(nullptr),
      static_cast<int*>(nullptr), static_cast<int>(n), 0, key_bits(v));
  char* p = static_cast<char*>(base);
  size_t offset = 0;
  auto take = [&](size_t bytes) {
    void* at = p ? p + offset : nullptr;
    offset += align_up(bytes);
    return at;
  };
  s.keys_in = static_cast<unsigned long long*>(take(sizeof(unsigned long long) * n));
  s.keys = static_cast<unsigned long long*>(take(sizeof(unsigned long long) * n));
  s.order_in = static_cast<int*>(take(sizeof(int) * n));
  s.order = static_cast<int*>(take(sizeof(int) * n));
  s.begin = static_cast<int*>(take(sizeof(int) * v));
  s.end = static_cast<int*>(take(sizeof(int) * v));
  s.sort_temp = take(sort_bytes);
  s.sort_bytes = sort_bytes;
  s.total = offset;
  return s;
}

}  // namespace

cudaError_t embedding_forward(ScalarType type, int64_t n, int64_t v, int64_t d, const void* weight,
                              const int64_t* indices, void* out, cudaStream_t stream) {
  if (n * d == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    gather_kernel<<<grid_for(n * d), detail::kThreads, 0, stream>>>(
        n, v, d, static_cast<const T*>(weight), indices, static_cast<T*>(out));
    return cudaGetLastError();
  });
}

size_t embedding_backward_workspace(int64_t n, int64_t v) {
  return carve(n, v, nullptr).total;
}

cudaError_t embedding_backward(ScalarType type, int64_t n, int64_t v, int64_t d, const void* gy,
                               const int64_t* indices, void* gweight, void* workspace,
                               size_t workspace_bytes, cudaStream_t stream) {
  if (v * d == 0) return cudaSuccess;
  const Scratch s = carve(n, v, workspace);
  if (workspace_bytes < s.total || n > 0x7fffffff) return cudaErrorInvalidValue;
  cudaError_t err = cudaMemsetAsync(s.begin, 0, sizeof(int) * v, stream);
  if (err == cudaSuccess) err = cudaMemsetAsync(s.end, 0, sizeof(int) * v, stream);
  if (err != cudaSuccess) return err;
  const int count = static_cast<int>(n);
  if (count > 0) {
    keys_kernel<<<grid_for(count), detail::kThreads, 0, stream>>>(count, v, indices, s.keys_in,
                                                                  s.order_in);
    size_t sort_bytes = s.sort_bytes;
    err = cub::DeviceRadixSort::SortPairs(s.sort_temp, sort_bytes, s.keys_in, s.keys, s.order_in,
                                          s.order, count, 0, key_bits(v), stream);
    if (err != cudaSuccess) return err;
    run_bounds_kernel<<<grid_for(count), detail::kThreads, 0, stream>>>(count, v, s.keys, s.begin,
                                                                        s.end);
  }
  return detail::with_float_type(type, [&]<typename T>() {
    run_sum_kernel<<<grid_for(v * d), detail::kThreads, 0, stream>>>(
        v, d, static_cast<const T*>(gy), s.order, s.begin, s.end, static_cast<T*>(gweight));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
