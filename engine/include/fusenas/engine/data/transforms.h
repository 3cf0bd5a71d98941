// Image transforms on batches: normalisation, random crop with zero padding, horizontal flip and
// cutout, with per-image parameters drawn from SampleRandom so they are reproducible.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fusenas/engine/data/sample_random.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::data {

struct TransformConfig {
  int64_t crop_padding = 0;   // pad by P zeros, crop back to H x W at a random offset; 0 = off
  bool flip = false;          // mirror left-right with probability 0.5
  int64_t cutout_length = 0;  // zero one L x L square after normalisation; 0 = off
  bool normalize = true;      // (x/255 - mean)/std per channel; otherwise x/255
  // Per-channel stats; empty means "take the dataset's" (DataLoader fills them in).
  std::vector<float> mean;
  std::vector<float> std;
};

// Parameters of one image's transform. The defaults are the identity.
struct AugmentParams {
  int64_t shift_y = 0;  // crop window offset from the centred one, in [-P, P]
  int64_t shift_x = 0;
  bool flip = false;
  bool cutout = false;
  int64_t cutout_y = 0;  // centre of the cutout square, in [0, H) x [0, W)
  int64_t cutout_x = 0;
};

// Draws one image's parameters. Each field reads a fixed word of `rng`, so turning one
// augmentation on or off never changes the draws of the others.
AugmentParams draw_augment(const TransformConfig& config, int64_t height, int64_t width,
                           SampleRandom& rng);

// Transforms uint8 HWC images into float HWC ones. The order is torchvision's as used by DARTS:
// crop (padding is black, pixel 0), flip, normalise, then cutout (zero after normalisation).
// The cutout square spans rows [cy - L/2, cy - L/2 + L) clipped to the image, same for columns:
// DeVries' square for even L, and exactly L wide for odd L too.
class ImageTransform {
 public:
  ImageTransform(const TransformConfig& config, int64_t channels);
  void apply(const uint8_t* src, int64_t height, int64_t width, const AugmentParams& params,
             float* dst) const;

 private:
  int64_t channels_;
  int64_t cutout_length_;
  std::vector<float> lut_;  // [channel][pixel value] -> normalised value
};

// Transforms a uint8 [B, H, W, C] batch into float32 [B, H, W, C] with explicit per-image params
// (one per image, or empty for the identity).
Tensor apply_transforms(const Tensor& images, const TransformConfig& config,
                        std::span<const AugmentParams> params = {});

// Transforms a uint8 batch with params drawn for image i from SampleRandom(seed, epoch,
// first_position + i).
Tensor augment_batch(const Tensor& images, const TransformConfig& config, uint64_t seed,
                     int64_t epoch, int64_t first_position);

// (x/255 - mean)/std per channel, no augmentation.
Tensor normalize(const Tensor& images, std::span<const float> mean, std::span<const float> std);

}  // namespace fusenas::data
