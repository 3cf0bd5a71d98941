// Where a tensor's storage lives: the CPU or one CUDA device.
#pragma once

#include <string>

namespace fusenas {

enum class DeviceType : unsigned char { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int index = 0) { return {DeviceType::CUDA, index}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;
  // Parses "cpu", "cuda", "cuda:1".
  static Device parse(const std::string& text);
  friend bool operator==(const Device&, const Device&) = default;
};

// True when this build has the CUDA backend and at least one device is visible.
bool cuda_available();
// True when the library was compiled with the CUDA backend.
bool built_with_cuda();

}  // namespace fusenas
