// The Zoph & Le network: layers from the engine's modules, inputs wired by the skip bits.
#include "fusenas/nas/space/zoph_le_network.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::space {
namespace {

void check_layer(const ZophLeLayer& l, size_t i) {
  FUSENAS_CHECK(l.height >= 1 && l.height % 2 == 1 && l.width >= 1 && l.width % 2 == 1,
                "zoph-le network: layer {} has a {}x{} filter (both sides must be odd)", i,
                l.height, l.width);
  FUSENAS_CHECK(l.filters >= 1, "zoph-le network: layer {} has {} filters", i, l.filters);
  FUSENAS_CHECK(l.stride == 1 || l.stride == 2, "zoph-le network: layer {} has stride {}", i,
                l.stride);
  FUSENAS_CHECK(l.skips.size() == i, "zoph-le network: layer {} has {} skip bits, not {}", i,
                l.skips.size(), i);
}

// The channels layer l reads: its chosen inputs' filters, or the image's.
int64_t input_channels(const ZophLeArch& arch, size_t l, int64_t image_channels) {
  int64_t c = 0;
  for (size_t j = 0; j < l; ++j)
    if (arch.layers[l].skips[j]) c += arch.layers[j].filters;
  return c > 0 ? c : image_channels;
}

// x padded with zeros after its end along `axis` to `size`.
Tensor pad_end(const Tensor& x, int64_t axis, int64_t size) {
  if (x.size(axis) == size) return x;
  Shape zeros_shape = x.shape();
  zeros_shape[static_cast<size_t>(axis)] = size - x.size(axis);
  return concat({x, zeros(zeros_shape, x.options())}, axis);
}

}  // namespace

std::vector<size_t> zoph_le_unused_layers(const ZophLeArch& arch) {
  std::vector<size_t> unused;
  for (size_t j = 0; j < arch.layers.size(); ++j) {
    bool read = false;
    for (size_t l = j + 1; l < arch.layers.size() && !read; ++l)
      read = j < arch.layers[l].skips.size() && arch.layers[l].skips[j];
    if (!read) unused.push_back(j);
  }
  return unused;
}

Tensor zoph_le_concat(const std::vector<Tensor>& maps) {
  FUSENAS_CHECK(!maps.empty(), "zoph_le_concat: no maps");
  if (maps.size() == 1) return maps[0];
  int64_t h = 0, w = 0;
  for (const Tensor& m : maps) {
    FUSENAS_CHECK(m.dim() == 4, "zoph_le_concat: expected NHWC maps, got {}", shape_str(m.shape()));
    h = std::max(h, m.size(1));
    w = std::max(w, m.size(2));
  }
  std::vector<Tensor> padded;
  for (const Tensor& m : maps) padded.push_back(pad_end(pad_end(m, 1, h), 2, w));
  return concat(padded, 3);
}

ZophLeNetwork::ZophLeNetwork(const ZophLeArch& arch, const ImageShape& shape, Generator& gen)
    : arch_(arch), shape_(shape) {
  shape.validate();
  FUSENAS_CHECK(!arch.layers.empty(), "zoph-le network: no layers");
  for (size_t l = 0; l < arch.layers.size(); ++l) {
    const ZophLeLayer& layer = arch.layers[l];
    check_layer(layer, l);
    const Conv2dParams conv{layer.stride, layer.stride, (layer.height - 1) / 2,
                            (layer.width - 1) / 2};
    layers_.push_back(register_module(
        "layer_" + std::to_string(l),
        nn::make_sequential({
            std::make_shared<nn::Conv2d>(input_channels(arch, l, shape.channels), layer.filters,
                                         nn::KernelSize(layer.height, layer.width), conv, gen),
            std::make_shared<nn::BatchNorm2d>(layer.filters),
            std::make_shared<nn::ReLU>(),
        })));
  }
  classified_ = zoph_le_unused_layers(arch);
  int64_t features = 0;
  for (size_t j : classified_) features += arch.layers[j].filters;
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(features, shape.classes, gen));
}

std::vector<Tensor> ZophLeNetwork::layer_outputs(const Tensor& x) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == shape_.channels,
                "ZophLeNetwork: expected input [N, H, W, {}], got {}", shape_.channels,
                shape_str(x.shape()));
  std::vector<Tensor> outs;
  for (size_t l = 0; l < layers_.size(); ++l) {
    std::vector<Tensor> inputs;
    for (size_t j = 0; j < l; ++j)
      if (arch_.layers[l].skips[j]) inputs.push_back(outs[j]);
    outs.push_back(layers_[l]->forward(inputs.empty() ? x : zoph_le_concat(inputs)));
  }
  return outs;
}

Tensor ZophLeNetwork::forward(const Tensor& x) {
  const std::vector<Tensor> outs = layer_outputs(x);
  std::vector<Tensor> pooled;
  for (size_t j : classified_) pooled.push_back(global_avg_pool(outs[j]));
  return classifier_->forward(pooled.size() == 1 ? pooled[0] : concat(pooled, 1));
}

int64_t ZophLeNetwork::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return n;
}

int64_t zoph_le_parameter_count(const ZophLeArch& arch, const ImageShape& shape) {
  int64_t total = 0;
  for (size_t l = 0; l < arch.layers.size(); ++l) {
    const ZophLeLayer& layer = arch.layers[l];
    check_layer(layer, l);
    const int64_t f = layer.filters;
    total += input_channels(arch, l, shape.channels) * layer.height * layer.width * f + 2 * f;
  }
  int64_t features = 0;
  for (size_t j : zoph_le_unused_layers(arch)) features += arch.layers[j].filters;
  return total + features * shape.classes + shape.classes;
}

}  // namespace fusenas::nas::space
