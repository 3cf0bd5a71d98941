// The network of a Zoph & Le architecture: convolution layers wired by their skip bits, every
// output no later layer reads pooled into a linear classifier.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/space.h"
#include "fusenas/nas/space/zoph_le_space.h"

namespace fusenas::nas::space {

// Layer l: conv2d (height x width, padded (height - 1) / 2 and (width - 1) / 2, no bias) -> BN
// (affine) -> ReLU, on the channel concat of the outputs of the layers its skip bits choose, or on
// the image when it chooses none (layer 0 always; the paper's repair of a layer without inputs).
// Every output that no later layer reads (the last layer's always) is global-average-pooled; the
// pooled vectors, concatenated in layer order, feed a linear classifier. The paper concatenates
// those outputs (zero-padded to one size) into its final layer; pooling each first avoids the
// padding, which would dilute a smaller map's average.
class ZophLeNetwork : public Network {
 public:
  // The architecture must satisfy ZophLeSpace's rules for some options (no check of membership in
  // a particular space here: nas_train builds what a search found at another width).
  ZophLeNetwork(const ZophLeArch& arch, const ImageShape& shape, Generator& gen);
  std::string type_name() const override { return "ZophLeNetwork"; }
  // x [N, H, W, shape.channels] -> logits [N, shape.classes]
  Tensor forward(const Tensor& x) override;
  // Every layer's output [N, H_l, W_l, filters_l], in layer order (forward()'s first part).
  std::vector<Tensor> layer_outputs(const Tensor& x);
  int64_t num_parameters() const override;
  const ZophLeArch& arch() const { return arch_; }
  // The layers whose outputs reach the classifier, in order.
  const std::vector<size_t>& classified_layers() const { return classified_; }

 private:
  ZophLeArch arch_;
  ImageShape shape_;
  std::vector<std::shared_ptr<nn::Module>> layers_;
  std::vector<size_t> classified_;
  std::shared_ptr<nn::Module> classifier_;
};

// The layers no later layer reads (the last always), in order.
std::vector<size_t> zoph_le_unused_layers(const ZophLeArch& arch);

// The channel concat of NHWC maps [N, H_i, W_i, C_i] (a layer's input). Maps smaller than the
// largest are zero-padded at the bottom and the right to its size first, as the paper does when
// stride-2 layers make the sizes differ.
Tensor zoph_le_concat(const std::vector<Tensor>& maps);

// The parameter count of ZophLeNetwork(arch, shape) without building it.
int64_t zoph_le_parameter_count(const ZophLeArch& arch, const ImageShape& shape);

}  // namespace fusenas::nas::space
