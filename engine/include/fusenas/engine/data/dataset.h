// Dataset: an in-memory image classification set (uint8 NHWC images, int64 labels, channel stats).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::data {

// Per-channel statistics of pixels/255 over the training set, as used by the DARTS code base.
inline constexpr std::array<float, 1> kFashionMnistMean = {0.2860f};
inline constexpr std::array<float, 1> kFashionMnistStd = {0.3530f};
inline constexpr std::array<float, 3> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
inline constexpr std::array<float, 3> kCifar10Std = {0.2470f, 0.2435f, 0.2616f};

struct Dataset {
  std::string name;
  Tensor images;  // uint8 [N, H, W, C], CPU, contiguous
  Tensor labels;  // int64 [N], CPU, contiguous
  int64_t num_classes = 0;
  std::vector<float> mean;  // per channel, of pixels/255
  std::vector<float> std;

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  int64_t height() const { return images.size(1); }
  int64_t width() const { return images.size(2); }
  int64_t channels() const { return images.size(3); }

  // Throws fusenas::Error naming the dataset unless shapes, dtypes, stats and labels are coherent.
  void validate() const;
};

}  // namespace fusenas::data
