// Fashion-MNIST loader: the gzipped IDX files of Debian's dataset-fashion-mnist package.
#pragma once

#include <string>

#include "fusenas/engine/data/dataset.h"

namespace fusenas::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Loads {train,t10k}-images-idx3-ubyte.gz and the matching labels from `dir` (uncompressed files of
// the same name without .gz are accepted too). Images come back as uint8 [N, 28, 28, 1]. Throws
// fusenas::Error naming the file on a missing, truncated, corrupt or inconsistent file.
Dataset load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true);

}  // namespace fusenas::data
