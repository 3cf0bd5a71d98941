// Image transforms: parameter draws and the fused crop/flip/normalise/cutout pass.
#include "fusenas/engine/data/transforms.h"

#include <algorithm>
#include <vector>

#include "fusenas/engine/error.h"

namespace fusenas::data {
namespace {

void check_batch(const Tensor& images, const char* what) {
  FUSENAS_CHECK(
      images.defined() && images.dtype() == DType::UInt8 && images.dim() == 4 && !images.is_cuda(),
      "{}: expected a uint8 [B, H, W, C] CPU tensor, got {}", what,
      images.defined() ? images.str() : std::string("an undefined tensor"));
}

}  // namespace

AugmentParams draw_augment(const TransformConfig& config, int64_t height, int64_t width,
                           SampleRandom& rng) {
  FUSENAS_CHECK(config.crop_padding >= 0 && config.cutout_length >= 0,
                "augment: negative crop padding {} or cutout length {}", config.crop_padding,
                config.cutout_length);
  // Always five words in a fixed order, whatever is enabled.
  const int64_t span = 2 * config.crop_padding + 1;
  const int64_t dy = rng.next_below(span) - config.crop_padding;
  const int64_t dx = rng.next_below(span) - config.crop_padding;
  const bool flip = rng.next_float() < 0.5f;
  const int64_t cy = rng.next_below(height);
  const int64_t cx = rng.next_below(width);
  AugmentParams p;
  p.shift_y = dy;
  p.shift_x = dx;
  p.flip = config.flip && flip;
  p.cutout = config.cutout_length > 0;
  p.cutout_y = cy;
  p.cutout_x = cx;
  return p;
}

ImageTransform::ImageTransform(const TransformConfig& config, int64_t channels)
    : channels_(channels), cutout_length_(config.cutout_length) {
  FUSENAS_CHECK(channels > 0, "transform: {} channels", channels);
  FUSENAS_CHECK(config.cutout_length >= 0, "transform: negative cutout length {}",
                config.cutout_length);
  if (config.normalize) {
    FUSENAS_CHECK(config.mean.size() == static_cast<size_t>(channels) &&
                      config.std.size() == static_cast<size_t>(channels),
                  "transform: {} channels but {} means and {} stds", channels, config.mean.size(),
                  config.std.size());
  }
  // A table keeps the hot loop to a lookup and gives exactly (x/255 - mean)/std in float.
  lut_.resize(static_cast<size_t>(channels) * 256);
  for (int64_t c = 0; c < channels; ++c) {
    for (int v = 0; v < 256; ++v) {
      float x = static_cast<float>(v) / 255.0f;
      if (config.normalize) {
        FUSENAS_CHECK(config.std[c] > 0.0f, "transform: std {} of channel {} is not positive",
                      config.std[c], c);
        x = (x - config.mean[c]) / config.std[c];
      }
      lut_[c * 256 + v] = x;
    }
  }
}

void ImageTransform::apply(const uint8_t* src, int64_t height, int64_t width,
                           const AugmentParams& p, float* dst) const {
  const int64_t c_n = channels_;
  const float* lut = lut_.data();
  for (int64_t y = 0; y < height; ++y) {
    const int64_t sy = y + p.shift_y;
    for (int64_t x = 0; x < width; ++x) {
      const int64_t sx = (p.flip ? width - 1 - x : x) + p.shift_x;
      float* out = dst + (y * width + x) * c_n;
      if (sy >= 0 && sy < height && sx >= 0 && sx < width) {
        const uint8_t* in = src + (sy * width + sx) * c_n;
        for (int64_t c = 0; c < c_n; ++c) out[c] = lut[c * 256 + in[c]];
      } else {
        for (int64_t c = 0; c < c_n; ++c) out[c] = lut[c * 256];
      }
    }
  }
  if (p.cutout && cutout_length_ > 0) {
    const int64_t y0 = std::clamp<int64_t>(p.cutout_y - cutout_length_ / 2, 0, height);
    const int64_t y1 =
        std::clamp<int64_t>(p.cutout_y - cutout_length_ / 2 + cutout_length_, 0, height);
    const int64_t x0 = std::clamp<int64_t>(p.cutout_x - cutout_length_ / 2, 0, width);
    const int64_t x1 =
        std::clamp<int64_t>(p.cutout_x - cutout_length_ / 2 + cutout_length_, 0, width);
    for (int64_t y = y0; y < y1; ++y) {
      std::fill(dst + (y * width + x0) * c_n, dst + (y * width + x1) * c_n, 0.0f);
    }
  }
}

Tensor apply_transforms(const Tensor& images, const TransformConfig& config,
                        std::span<const AugmentParams> params) {
  check_batch(images, "apply_transforms");
  const Tensor src = images.contiguous();
  const int64_t b = src.size(0), h = src.size(1), w = src.size(2), c = src.size(3);
  FUSENAS_CHECK(params.empty() || static_cast<int64_t>(params.size()) == b,
                "apply_transforms: {} parameter sets for a batch of {}", params.size(), b);
  const ImageTransform transform(config, c);
  Tensor out = Tensor::empty(src.shape(), TensorOptions{}.with_dtype(DType::Float32));
  const uint8_t* in = src.data<uint8_t>();
  float* o = out.data<float>();
  const int64_t image = h * w * c;
  for (int64_t i = 0; i < b; ++i) {
    transform.apply(in + i * image, h, w, params.empty() ? AugmentParams{} : params[i],
                    o + i * image);
  }
  return out;
}

Tensor augment_batch(const Tensor& images, const TransformConfig& config, uint64_t seed,
                     int64_t epoch, int64_t first_position) {
  check_batch(images, "augment_batch");
  std::vector<AugmentParams> params(static_cast<size_t>(images.size(0)));
  for (size_t i = 0; i < params.size(); ++i) {
    SampleRandom rng(seed, epoch, first_position + static_cast<int64_t>(i));
    params[i] = draw_augment(config, images.size(1), images.size(2), rng);
  }
  return apply_transforms(images, config, params);
}

Tensor normalize(const Tensor& images, std::span<const float> mean, std::span<const float> std) {
  TransformConfig config;
  config.mean.assign(mean.begin(), mean.end());
  config.std.assign(std.begin(), std.end());
  return apply_transforms(images, config);
}

}  // namespace fusenas::data
