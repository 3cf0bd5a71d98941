// The chain space's supernet: one set of weights per layer slot for every (type, kernel) choice
// at the widest filter count, from which any chain architecture of the space takes channel slices
// (slimmable / once-for-all style weight sharing).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::estimate {

// A BN's affine parameters alone ("weight" ones, "bias" zeros, [features]): a slice of them runs
// functionally on the batch's statistics, so running buffers would describe no width in
// particular and are not kept.
class ChainAffine : public nn::Module {
 public:
  explicit ChainAffine(int64_t features);
  std::string type_name() const override { return "ChainAffine"; }
  Tensor weight, bias;
};

// One slot's candidates. A layer reading c_in channels and writing f takes conv weight
// [:f, :, :, :c_in], depthwise [:c_in], pointwise [:f, :, :, :c_in] and its BN's first f
// affine parameters. Stride-1 and stride-2 layers share the weights.
class ChainSlot : public nn::Module {
 public:
  ChainSlot(int64_t c_max, int64_t f_max, const std::vector<int64_t>& kernels, Generator& gen);
  std::string type_name() const override { return "ChainSlot"; }
  using Module::forward;
  Tensor forward_layer(const Tensor& x, const space::ChainLayer& layer);

  // Parameter names: conv_k{k}.weight [f_max, k, k, c_max], conv_k{k}_bn.{weight,bias} [f_max],
  // sep_k{k}_dw.weight [c_max, k, k, 1], sep_k{k}_pw.weight [f_max, 1, 1, c_max],
  // sep_k{k}_bn.{weight,bias} [f_max].
  static std::string conv_name(int64_t kernel) { return "conv_k" + std::to_string(kernel); }
  static std::string sep_name(int64_t kernel) { return "sep_k" + std::to_string(kernel); }

 private:
  int64_t kernel_index(int64_t kernel) const;

  std::vector<int64_t> kernels_;
  std::vector<std::shared_ptr<nn::Conv2d>> conv_, dw_, pw_;
  std::vector<std::shared_ptr<ChainAffine>> conv_bn_, sep_bn_;
};

// stem (3x3 conv to stem_channels, BN; ChainNetwork's) -> slots 0 .. layers-1 of the arch (the
// slots beyond its depth are skipped: an identity) -> global average pool -> linear on the
// first c channels of a [classes, c_max] classifier. Every BN but the stem's normalises with the
// batch's statistics.
class ChainSupernet : public nn::Module {
 public:
  ChainSupernet(const space::ChainOptions& options, const space::ImageShape& shape, Generator& gen);
  std::string type_name() const override { return "ChainSupernet"; }
  using Module::forward;
  Tensor forward_sampled(const Tensor& x, const space::ChainArch& arch);
  // The widest input any slot reads (the stem's or the widest filter choice) and filter count.
  int64_t max_channels() const { return c_max_; }
  int64_t max_filters() const { return f_max_; }

 private:
  space::ChainOptions options_;
  space::ImageShape shape_;
  int64_t c_max_, f_max_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<ChainSlot>> slots_;
  std::shared_ptr<nn::Linear> classifier_;
};

}  // namespace fusenas::nas::estimate
