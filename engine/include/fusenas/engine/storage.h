// Storage: a reference-counted block of device memory that tensors view into.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "fusenas/engine/device.h"

namespace fusenas {

class Storage {
 public:
  using Deleter = std::function<void(void*)>;

  // Owns `nbytes` freshly allocated on `device` (contents uninitialised).
  Storage(size_t nbytes, Device device);
  // Wraps memory someone else owns; `deleter` (may be empty) runs when the storage dies.
  Storage(void* data, size_t nbytes, Device device, Deleter deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool owned_ = false;
  Deleter deleter_;
};

}  // namespace fusenas
