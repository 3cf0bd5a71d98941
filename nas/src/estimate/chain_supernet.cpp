// The chain supernet: per slot, every (type, kernel) choice at the widest width, sliced per layer.
#include "fusenas/nas/estimate/chain_supernet.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas::estimate {
namespace {

using space::ChainLayer;
using space::ChainLayerType;

// The first `out` output and `in` input channels of a conv weight [C_out, kH, kW, C_in]; the
// copy keeps the gradient flowing into the shared tensor.
Tensor leading(const Tensor& w, int64_t out, int64_t in) {
  if (out == w.size(0) && in == w.size(3)) return w;
  return w.narrow(0, 0, out).narrow(3, 0, in).contiguous();
}

Tensor first(const Tensor& v, int64_t n) {
  return n == v.size(0) ? v : v.narrow(0, 0, n);
}

}  // namespace

ChainAffine::ChainAffine(int64_t features) {
  weight = register_parameter("weight", ones({features}));
  bias = register_parameter("bias", zeros({features}));
}

ChainSlot::ChainSlot(int64_t c_max, int64_t f_max, const std::vector<int64_t>& kernels,
                     Generator& gen)
    : kernels_(kernels) {
  for (const int64_t k : kernels_) {
    const int64_t pad = k / 2;
    const std::string conv = conv_name(k), sep = sep_name(k);
    conv_.push_back(register_module(
        conv, std::make_shared<nn::Conv2d>(c_max, f_max, k, Conv2dParams::square(1, pad), gen)));
    conv_bn_.push_back(register_module(conv + "_bn", std::make_shared<ChainAffine>(f_max)));
    dw_.push_back(register_module(
        sep + "_dw", std::make_shared<nn::Conv2d>(c_max, c_max, k,
                                                  Conv2dParams::square(1, pad, 1, c_max), gen)));
    pw_.push_back(register_module(
        sep + "_pw", std::make_shared<nn::Conv2d>(c_max, f_max, 1, Conv2dParams{}, gen)));
    sep_bn_.push_back(register_module(sep + "_bn", std::make_shared<ChainAffine>(f_max)));
  }
}

int64_t ChainSlot::kernel_index(int64_t kernel) const {
  const auto it = std::find(kernels_.begin(), kernels_.end(), kernel);
  FUSENAS_CHECK(it != kernels_.end(), "chain supernet: kernel {} is not one of the space's",
                kernel);
  return it - kernels_.begin();
}

Tensor ChainSlot::forward_layer(const Tensor& x, const ChainLayer& l) {
  const int64_t c_in = x.size(3);
  const int64_t pad = l.kernel / 2;
  switch (l.type) {
    case ChainLayerType::kConv: {
      const auto i = static_cast<size_t>(kernel_index(l.kernel));
      const Tensor w = leading(conv_[i]->weight, l.filters, c_in);
      const Tensor h = conv2d(relu(x), w, {}, Conv2dParams::square(l.stride, pad));
      return batch_norm(h, first(conv_bn_[i]->weight, l.filters),
                        first(conv_bn_[i]->bias, l.filters), {}, {}, true);
    }
    case ChainLayerType::kSepConv: {
      const auto i = static_cast<size_t>(kernel_index(l.kernel));
      const Tensor dw = leading(dw_[i]->weight, c_in, 1);
      const Tensor pw = leading(pw_[i]->weight, l.filters, c_in);
      Tensor h = conv2d(relu(x), dw, {}, Conv2dParams::square(l.stride, pad, 1, c_in));
      h = conv2d(h, pw, {}, Conv2dParams{});
      return batch_norm(h, first(sep_bn_[i]->weight, l.filters), first(sep_bn_[i]->bias, l.filters),
                        {}, {}, true);
    }
    case ChainLayerType::kMaxPool:
      return max_pool2d(x, l.kernel, l.stride, pad);
    case ChainLayerType::kAvgPool:
      return avg_pool2d(x, l.kernel, l.stride, pad, false);
    case ChainLayerType::kIdentity:
      return x;
  }
  FUSENAS_FAIL("chain supernet: layer type value {} is outside 0..{}", static_cast<int>(l.type),
               space::kNumChainLayerTypes - 1);
}

ChainSupernet::ChainSupernet(const space::ChainOptions& options, const space::ImageShape& shape,
                             Generator& gen)
    : options_(options), shape_(shape) {
  options_.validate();
  shape_.validate();
  f_max_ = *std::max_element(options_.filters.begin(), options_.filters.end());
  c_max_ = std::max(options_.stem_channels, f_max_);
  stem_ = register_module(
      "stem", nn::make_sequential({
                  std::make_shared<nn::Conv2d>(shape_.channels, options_.stem_channels, 3,
                                               Conv2dParams::square(1, 1), gen),
                  std::make_shared<nn::BatchNorm2d>(options_.stem_channels),
              }));
  for (int i = 0; i < options_.max_layers; ++i) {
    slots_.push_back(
        register_module("slot_" + std::to_string(i),
                        std::make_shared<ChainSlot>(c_max_, f_max_, options_.kernels, gen)));
  }
  classifier_ =
      register_module("classifier", std::make_shared<nn::Linear>(c_max_, shape_.classes, gen));
}

Tensor ChainSupernet::forward_sampled(const Tensor& x, const space::ChainArch& arch) {
  FUSENAS_CHECK(x.dim() == 4 && x.size(3) == shape_.channels,
                "ChainSupernet: expected input [N, H, W, {}], got {}", shape_.channels,
                shape_str(x.shape()));
  FUSENAS_CHECK(!arch.layers.empty() && arch.layers.size() <= slots_.size(),
                "ChainSupernet: an arch of {} layers, the supernet has {} slots",
                arch.layers.size(), slots_.size());
  Tensor h = stem_->forward(x);
  for (size_t i = 0; i < arch.layers.size(); ++i) h = slots_[i]->forward_layer(h, arch.layers[i]);
  const int64_t c = h.size(3);
  const Tensor w =
      c == c_max_ ? classifier_->weight : classifier_->weight.narrow(1, 0, c).contiguous();
  return linear(global_avg_pool(h), w, classifier_->bias);
}

}  // namespace fusenas::nas::estimate
