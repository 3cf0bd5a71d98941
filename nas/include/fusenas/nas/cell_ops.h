// The candidate operations of DARTS-style cells as nn modules (NHWC), shared by the evaluation
// network and the search supernet.
#pragma once

#include <memory>
#include <string>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/nn.h"

namespace fusenas::nas {

// ReLU -> conv(k, stride, pad) -> BN
class ReLUConvBN : public nn::Module {
 public:
  ReLUConvBN(int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride, int64_t pad, bool affine,
             Generator& gen);
  std::string type_name() const override { return "ReLUConvBN"; }
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
};

// ReLU -> two 1x1 stride-2 convs (the second on x shifted by one pixel) -> concat -> BN.
class FactorizedReduce : public nn::Module {
 public:
  FactorizedReduce(int64_t c_in, int64_t c_out, bool affine, Generator& gen);
  std::string type_name() const override { return "FactorizedReduce"; }
  Tensor forward(const Tensor& x) override;

 private:
  std::shared_ptr<nn::Conv2d> conv1_, conv2_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
};

// ReLU -> depthwise k x k (stride, dilation) -> 1x1 -> BN, applied once (`repeats` = 1: dil_conv)
// or twice with the second depthwise at stride 1 (`repeats` = 2: sep_conv).
class SepConv : public nn::Module {
 public:
  SepConv(int64_t c, int64_t kernel, int64_t stride, int64_t dilation, int repeats, bool affine,
          Generator& gen);
  std::string type_name() const override { return "SepConv"; }
  Tensor forward(const Tensor& x) override;
};

// ReLU -> 1x7 conv (stride (1,s)) -> 7x1 conv (stride (s,1)) -> BN
class Conv7x1_1x7 : public nn::Module {
 public:
  Conv7x1_1x7(int64_t c, int64_t stride, bool affine, Generator& gen);
  std::string type_name() const override { return "Conv7x1_1x7"; }
  Tensor forward(const Tensor& x) override;
};

// Pooling 3x3 / padding 1 (average excludes padding), max or average.
class Pool3x3 : public nn::Module {
 public:
  Pool3x3(bool max, int64_t stride) : max_(max), stride_(stride) {}
  std::string type_name() const override { return max_ ? "MaxPool3x3" : "AvgPool3x3"; }
  Tensor forward(const Tensor& x) override;

 private:
  bool max_;
  int64_t stride_;
};

class Identity : public nn::Module {
 public:
  std::string type_name() const override { return "Identity"; }
  Tensor forward(const Tensor& x) override { return x; }
};

// DARTS `none`: zeros shaped like the strided output.
class Zero : public nn::Module {
 public:
  explicit Zero(int64_t stride) : stride_(stride) {}
  std::string type_name() const override { return "Zero"; }
  Tensor forward(const Tensor& x) override;

 private:
  int64_t stride_;
};

// Builds candidate `name` (a primitive of primitives.h) for C channels at `stride`.
// `affine` is false during search (BN without parameters), true in the evaluation network.
std::shared_ptr<nn::Module> make_cell_op(const std::string& name, int64_t channels, int64_t stride,
                                         bool affine, Generator& gen);

}  // namespace fusenas::nas
