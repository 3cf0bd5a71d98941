// The multi-branch layer space (the lecture's right picture): ENAS's macro space as a black-box
// space. Points are enas::MacroArch JSON with a fixed number of layers; networks are standalone
// MacroNetworks.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/enas/macro_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

struct MultiBranchOptions {
  int layers = 6;         // in [1, 64]; ENAS searched 12, a black-box trial trains 6 from scratch
  int64_t channels = 16;  // every layer's width; even (FactorizedReduce halves it)

  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static MultiBranchOptions from_json(const nlohmann::json& j);
};

class MultiBranchSpace : public ArchSpace {
 public:
  explicit MultiBranchSpace(MultiBranchOptions options = {});

  std::string name() const override { return "multibranch"; }
  // Each layer's op uniformly among the 6 macro ops, each skip bit 0 or 1 with probability 1/2
  // (uniform over the space).
  Point sample(Generator& gen) const override;
  // With probability 1/2 one layer's op becomes another op, otherwise one skip bit flips (always
  // the op with a single layer, which has no skips). Not uniform over decisions: L layers have
  // L (L - 1) / 2 skip bits against L ops, so that would almost only rewire.
  Point mutate(const Point& p, Generator& gen) const override;
  // {"layers": [{"op": "conv_3x3", "skips": []}, ...]}: exactly `layers` layers, layer l has l
  // skip entries, each 0 or 1 (true and false are accepted too, as MacroArch::from_json does).
  void validate(const Point& p) const override;
  // Per layer a one-hot over the 6 ops, then every skip bit: 6 L + L (L - 1) / 2 entries.
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override;
  // "conv_3x3 | sep_conv_5x5 <- 0 | max_pool_3x3 <- 0 1"
  std::string to_text(const Point& p) const override;
  std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                 Generator& gen) const override;
  int64_t count_parameters(const Point& p, const ImageShape& shape) const override;

  const MultiBranchOptions& options() const { return options_; }
  // Throws fusenas::Error unless `shape` can feed this space's networks: the image size must
  // halve evenly at every reduction (FactorizedReduce's two shifted halves need even maps).
  void check_shape(const ImageShape& shape) const;
  // The point's architecture (validated).
  enas::MacroArch arch(const Point& p) const;
  static Point point(const enas::MacroArch& arch);

 private:
  MultiBranchOptions options_;
};

}  // namespace fusenas::nas::space
