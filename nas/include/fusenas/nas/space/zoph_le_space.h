// Zoph & Le's (2017) layer-based space as a black-box space: per layer a filter height and width,
// a filter count, a stride and which earlier layers feed it (the anchor points of the paper's
// controller). Points are {"layers": [...]} JSON; networks are ZophLeNetworks (zoph_le_network.h).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

// One layer: a height x width convolution to `filters` channels with `stride`, then BN and ReLU.
// skips[j] (j < the layer's index) says whether layer j's output is one of its inputs.
struct ZophLeLayer {
  int64_t height = 3, width = 3, filters = 36, stride = 1;
  std::vector<bool> skips;
  friend bool operator==(const ZophLeLayer&, const ZophLeLayer&) = default;
};

struct ZophLeArch {
  std::vector<ZophLeLayer> layers;
  friend bool operator==(const ZophLeArch&, const ZophLeArch&) = default;
};

// The choices per decision. The defaults are the paper's CIFAR-10 values (Zoph & Le 2017, sec.
// 4.1): filter heights and widths in {1, 3, 5, 7}, filter counts in {24, 36, 48, 64}, stride 1
// (its variant that also predicts strides is strides = {1, 2} here). The paper searched 15-layer
// networks (layers = 15); the default of 6 keeps a trial, which trains its network from scratch,
// affordable on a CPU, as the multibranch space's 6 layers do.
struct ZophLeOptions {
  int layers = 6;                               // in [1, 64]; every point has exactly this many
  std::vector<int64_t> heights = {1, 3, 5, 7};  // odd, so padding (h - 1) / 2 keeps the map centred
  std::vector<int64_t> widths = {1, 3, 5, 7};   // odd, likewise
  std::vector<int64_t> filters = {24, 36, 48, 64};
  std::vector<int64_t> strides = {1};  // each 1 or 2

  // Throws fusenas::Error naming the field and the rule for the first bad value (and for options
  // that leave a single point, which no mutation could leave).
  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static ZophLeOptions from_json(const nlohmann::json& j);
};

// "3x5x36 | 1x7x24 <- 1 | 5x3x64/2 <- 0 1": height x width x filters, "/2" for stride 2, then the
// layers it reads.
std::string to_text(const ZophLeArch& arch);

class ZophLeSpace : public ArchSpace {
 public:
  explicit ZophLeSpace(ZophLeOptions options = {});

  std::string name() const override { return "zoph-le"; }
  // Uniform over the space: every layer's height, width, filters and stride uniformly from the
  // options' lists, every skip bit a fair coin.
  Point sample(Generator& gen) const override;
  // With probability 1/2 one layer's height, width, filters or stride becomes another of its
  // choices (uniformly among the (layer, decision) pairs whose list has more than one value),
  // otherwise one skip bit flips (uniformly among the L (L - 1) / 2); always the former without
  // skip bits, always the latter when no list has two values. Not uniform over decisions: the
  // skip bits outnumber the rest for deep networks, so that would almost only rewire.
  Point mutate(const Point& p, Generator& gen) const override;
  // {"layers": [{"height": 3, "width": 5, "filters": 36, "stride": 1, "skips": []}, ...]}: exactly
  // `layers` layers, each with every key; values from the options' lists; layer l has l skip
  // entries, each 0 or 1 (true and false are accepted too).
  void validate(const Point& p) const override;
  // Per layer a one-hot over the heights, the widths, the filters and the strides (a list of one
  // value gives no entries: a constant feature tells a surrogate nothing), then every skip bit in
  // layer order.
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override;
  std::string to_text(const Point& p) const override;
  std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                 Generator& gen) const override;
  int64_t count_parameters(const Point& p, const ImageShape& shape) const override;

  const ZophLeOptions& options() const { return options_; }
  // Throws fusenas::Error unless `shape` can feed this space's networks. Every shape can: a
  // stride-2 layer maps n pixels to ceil(n / 2), never below 1, so this only validates it.
  void check_shape(const ImageShape& shape) const;
  // The point's architecture (validated against the options).
  ZophLeArch arch(const Point& p) const;
  // The canonical point (skips as 0 and 1) of an architecture; not checked against any options.
  static Point point(const ZophLeArch& arch);

 private:
  ZophLeOptions options_;
};

}  // namespace fusenas::nas::space
