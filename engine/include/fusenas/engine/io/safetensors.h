// Reading and writing tensors in the safetensors format (JSON header + raw little-endian data).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::io {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors
  std::map<std::string, std::string> metadata;
};

// Writes atomically (temp file, fsync, rename). Tensors may live on any device.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Throws fusenas::Error naming the file and the problem when it is missing, truncated or corrupt.
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace fusenas::io
