// Dataset consistency checks shared by every loader and by the DataLoader.
#include "fusenas/engine/data/dataset.h"

namespace fusenas::data {

void Dataset::validate() const {
  FUSENAS_CHECK(images.defined() && labels.defined(), "dataset '{}' has no images or labels", name);
  FUSENAS_CHECK(images.dtype() == DType::UInt8 && images.dim() == 4,
                "dataset '{}': images must be uint8 [N, H, W, C], got {}", name, images.str());
  FUSENAS_CHECK(labels.dtype() == DType::Int64 && labels.dim() == 1,
                "dataset '{}': labels must be int64 [N], got {}", name, labels.str());
  FUSENAS_CHECK(
      !images.is_cuda() && !labels.is_cuda() && images.is_contiguous() && labels.is_contiguous(),
      "dataset '{}': images and labels must be contiguous CPU tensors", name);
  FUSENAS_CHECK(images.size(0) == labels.size(0), "dataset '{}': {} images but {} labels", name,
                images.size(0), labels.size(0));
  const auto c = static_cast<size_t>(images.size(3));
  FUSENAS_CHECK(mean.size() == c && std.size() == c,
                "dataset '{}': {} channels but {} means and {} stds", name, c, mean.size(),
                std.size());
  for (float s : std)
    FUSENAS_CHECK(s > 0.0f, "dataset '{}': channel std {} is not positive", name, s);
  FUSENAS_CHECK(num_classes > 0, "dataset '{}': num_classes is {}", name, num_classes);
  const int64_t* l = labels.data<int64_t>();
  for (int64_t i = 0; i < labels.size(0); ++i) {
    FUSENAS_CHECK(l[i] >= 0 && l[i] < num_classes,
                  "dataset '{}': label {} of sample {} is outside [0, {})", name, l[i], i,
                  num_classes);
  }
}

}  // namespace fusenas::data
