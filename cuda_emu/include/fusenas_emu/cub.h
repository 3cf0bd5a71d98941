// The one CUB algorithm the kernels use (a stable radix sort of key/value pairs), on the host.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

#include "fusenas_emu/stream.h"

namespace cub {

struct DeviceRadixSort {
  // CUB's two-phase protocol: a null `temp` asks for the scratch size. Keys are compared on bits
  // [begin_bit, end_bit) only, and equal keys keep their input order, as a radix sort does.
  template <typename Key, typename Value>
  static cudaError_t SortPairs(void* temp, size_t& temp_bytes, const Key* keys_in, Key* keys_out,
                               const Value* values_in, Value* values_out, int count,
                               int begin_bit = 0, int end_bit = int(sizeof(Key) * 8),
                               cudaStream_t stream = nullptr) {
    if (temp == nullptr) {
      temp_bytes = 256;
      return cudaSuccess;
    }
    if (temp_bytes < 256 || count < 0 || begin_bit < 0 || end_bit > int(sizeof(Key) * 8) ||
        begin_bit >= end_bit) {
      return cudaErrorInvalidValue;
    }
    fusenas::emu::enqueue(stream, [=] {
      const int width = end_bit - begin_bit;
      const auto digit = [&](Key k) {
        const auto bits = static_cast<unsigned long long>(k) >> begin_bit;
        return width >= 64 ? bits : bits & ((1ull << width) - 1);
      };
      std::vector<int> order(count);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return digit(keys_in[a]) < digit(keys_in[b]); });
      std::vector<Key> keys(count);
      std::vector<Value> values(count);
      for (int i = 0; i < count; ++i) {
        keys[i] = keys_in[order[i]];
        values[i] = values_in[order[i]];
      }
      std::copy(keys.begin(), keys.end(), keys_out);
      std::copy(values.begin(), values.end(), values_out);
    });
    return cudaSuccess;
  }
};

}  // namespace cub
