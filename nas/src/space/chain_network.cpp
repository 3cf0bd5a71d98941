// The chain network: each layer type built from the engine's modules and the cell ops.
#include "fusenas/nas/space/chain_network.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/cell_ops.h"

namespace fusenas::nas::space {
namespace {

// k x k pooling padded by k / 2; the average leaves the padding out, as the cell pools do.
class ChainPool : public nn::Module {
 public:
  ChainPool(bool max, int64_t kernel, int64_t stride)
      : max_(max), kernel_(kernel), stride_(stride) {}
  std::string type_name() const override { return max_ ? "MaxPool" : "AvgPool"; }
  Tensor forward(const Tensor& x) override {
    return max_ ? max_pool2d(x, kernel_, stride_, kernel_ / 2)
                : avg_pool2d(x, kernel_, stride_, kernel_ / 2, false);
  }

 private:
  bool max_;
  int64_t kernel_, stride_;
};

std::shared_ptr<nn::Module> make_layer(const ChainLayer& l, int64_t c_in, Generator& gen) {
  const int64_t pad = l.kernel / 2;
  switch (l.type) {
    case ChainLayerType::kConv:
      return std::make_shared<ReLUConvBN>(c_in, l.filters, l.kernel, l.stride, pad, true, gen);
    case ChainLayerType::kSepConv:
      return nn::make_sequential({
          std::make_shared<nn::ReLU>(),
          std::make_shared<nn::Conv2d>(c_in, c_in, l.kernel,
                                       Conv2dParams::square(l.stride, pad, 1, c_in), gen),
          std::make_shared<nn::Conv2d>(c_in, l.filters, 1, Conv2dParams{}, gen),
          std::make_shared<nn::BatchNorm2d>(l.filters),
      });
    case ChainLayerType::kMaxPool:
    case ChainLayerType::kAvgPool:
      return std::make_shared<ChainPool>(l.type == ChainLayerType::kMaxPool, l.kernel, l.stride);
    case ChainLayerType::kIdentity:
      return std::make_shared<Identity>();
  }
  FUSENAS_FAIL("chain layer type value {} is outside 0..{}", static_cast<int>(l.type),
               kNumChainLayerTypes - 1);
}

void check_layer(const ChainLayer& l, size_t i) {
  (void)chain_layer_type_name(l.type);  // throws for a value outside the enum
  if (l.type == ChainLayerType::kIdentity) {
    FUSENAS_CHECK(l.stride == 1, "chain network: layer {} is an identity of stride {}", i,
                  l.stride);
    return;
  }
  FUSENAS_CHECK(l.kernel >= 1 && l.kernel % 2 == 1, "chain network: layer {} has kernel {}", i,
                l.kernel);
  FUSENAS_CHECK(l.stride == 1 || l.stride == 2, "chain network: layer {} has stride {}", i,
                l.stride);
  FUSENAS_CHECK(!has_filters(l.type) || l.filters >= 1, "chain network: layer {} has {} filters", i,
                l.filters);
}

}  // namespace

ChainNetwork::ChainNetwork(const ChainArch& arch, int64_t stem_channels, const ImageShape& shape,
                           Generator& gen)
    : shape_(shape) {
  shape.validate();
  FUSENAS_CHECK(!arch.layers.empty(), "chain network: no layers");
  stem_ = register_module("stem", nn::make_sequential({
                                      std::make_shared<nn::Conv2d>(shape.channels, stem_channels, 3,
                                                                   Conv2dParams::square(1, 1), gen),
                                      std::make_shared<nn::BatchNorm2d>(stem_channels),
                                  }));
  int64_t c = stem_channels;
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const ChainLayer& l = arch.layers[i];
    check_layer(l, i);
    layers_.push_back(register_module("layer_" + std::to_string(i), make_layer(l, c, gen)));
    if (has_filters(l.type)) c = l.filters;
  }
  classifier_ = register_module("classifier", std::make_shared<nn::Linear>(c, shape.classes, gen));
}

Tensor ChainNetwork::forward(const Tensor& x) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == shape_.channels,
                "ChainNetwork: expected input [N, H, W, {}], got {}", shape_.channels,
                shape_str(x.shape()));
  Tensor h = stem_->forward(x);
  for (const auto& layer : layers_) h = layer->forward(h);
  return classifier_->forward(global_avg_pool(h));
}

int64_t ChainNetwork::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

int64_t chain_parameter_count(const ChainArch& arch, int64_t stem_channels,
                              const ImageShape& shape) {
  int64_t c = stem_channels;
  int64_t total = shape.channels * c * 9 + 2 * c;  // stem conv, BN
  for (const ChainLayer& l : arch.layers) {
    const int64_t k2 = l.kernel * l.kernel, f = l.filters;
    if (l.type == ChainLayerType::kConv) total += c * f * k2 + 2 * f;
    if (l.type == ChainLayerType::kSepConv) total += c * k2 + c * f + 2 * f;
    if (has_filters(l.type)) c = f;
  }
  return total + c * shape.classes + shape.classes;
}

}  // namespace fusenas::nas::space
