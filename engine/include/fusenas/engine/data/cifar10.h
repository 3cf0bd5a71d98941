// CIFAR-10 loader: the binary version (data_batch_1..5.bin, test_batch.bin).
#pragma once

#include <string>

#include "fusenas/engine/data/dataset.h"

namespace fusenas::data {

// No Debian package ships CIFAR-10; this is where a provisioning step is expected to unpack it.
inline constexpr const char* kCifar10Dir = "/usr/share/datasets/cifar-10";

// Loads data_batch_1..5.bin (train) or test_batch.bin (test) from `dir` or from its
// cifar-10-batches-bin/ subfolder. Each record is 1 label byte and 3 planes of 32x32 (R, G, B);
// images come back as uint8 [N, 32, 32, 3] (NHWC). Throws fusenas::Error naming the file on a
// missing file, a size that is not a whole number of records, or a label >= 10.
Dataset load_cifar10(const std::string& dir = kCifar10Dir, bool train = true);

}  // namespace fusenas::data
