// The network of a chain architecture: the fixed stem, the layers in order, global average pooling
// and a linear classifier.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

class ChainNetwork : public Network {
 public:
  // The architecture must satisfy chain_arch_from_json's rules for some options (no check of
  // membership in a particular space here: nas_train builds what a search found).
  ChainNetwork(const ChainArch& arch, int64_t stem_channels, const ImageShape& shape,
               Generator& gen);
  std::string type_name() const override { return "ChainNetwork"; }
  // x [N, H, W, shape.channels] -> logits [N, shape.classes]
  Tensor forward(const Tensor& x) override;
  int64_t num_parameters() const override;
  const ImageShape& shape() const { return shape_; }

 private:
  ImageShape shape_;
  std::shared_ptr<nn::Module> stem_;
  std::vector<std::shared_ptr<nn::Module>> layers_;
  std::shared_ptr<nn::Module> classifier_;
};

// The parameter count of ChainNetwork(arch, stem_channels, shape) without building it.
int64_t chain_parameter_count(const ChainArch& arch, int64_t stem_channels,
                              const ImageShape& shape);

}  // namespace fusenas::nas::space
