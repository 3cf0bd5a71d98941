// Storage lifetime: memory from the allocator of its device type, or wrapped with a deleter.
#include "fusenas/engine/storage.h"

#include "fusenas/engine/allocator.h"

namespace fusenas {

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
