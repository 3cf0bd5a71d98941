// The candidate operations of DARTS-style cells as nn modules (NHWC).
#include "fusenas/nas/cell_ops.h"

#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nas {

ReLUConvBN::ReLUConvBN(int64_t c_in, int64_t c_out, int64_t kernel, int64_t stride, int64_t pad,
                       bool affine, Generator& gen)
    : conv_(register_module("op_conv",
                            std::make_shared<nn::Conv2d>(c_in, c_out, kernel,
                                                         Conv2dParams::square(stride, pad), gen))),
      bn_(register_module("op_bn", std::make_shared<nn::BatchNorm2d>(c_out, affine))) {}

Tensor ReLUConvBN::forward(const Tensor& x) {
  return bn_->forward(conv_->forward(relu(x)));
}

FactorizedReduce::FactorizedReduce(int64_t c_in, int64_t c_out, bool affine, Generator& gen) {
  FUSENAS_CHECK(c_out % 2 == 0, "FactorizedReduce: output channels must be even, got {}", c_out);
  conv1_ = register_module(
      "conv_1", std::make_shared<nn::Conv2d>(c_in, c_out / 2, 1, Conv2dParams::square(2, 0), gen));
  conv2_ = register_module(
      "conv_2", std::make_shared<nn::Conv2d>(c_in, c_out / 2, 1, Conv2dParams::square(2, 0), gen));
  bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(c_out, affine));
}

Tensor FactorizedReduce::forward(const Tensor& x) {
  const Tensor r = relu(x);
  // NHWC: the shifted branch reads x[:, 1:, 1:, :]
  const Tensor shifted = r.slice(1, 1, r.size(1)).slice(2, 1, r.size(2));
  return bn_->forward(concat({conv1_->forward(r), conv2_->forward(shifted)}, 3));
}

SepConv::SepConv(int64_t c, int64_t kernel, int64_t stride, int64_t dilation, int repeats,
                 bool affine, Generator& gen) {
  const int64_t pad = dilation * (kernel - 1) / 2;
  for (int r = 0; r < repeats; ++r) {
    const int64_t s = r == 0 ? stride : 1;
    register_module(
        std::to_string(4 * r + 1),
        std::make_shared<nn::Conv2d>(c, c, kernel, Conv2dParams::square(s, pad, dilation, c), gen));
    register_module(std::to_string(4 * r + 2),
                    std::make_shared<nn::Conv2d>(c, c, 1, Conv2dParams{}, gen));
    register_module(std::to_string(4 * r + 3), std::make_shared<nn::BatchNorm2d>(c, affine));
  }
}

Tensor SepConv::forward(const Tensor& x) {
  Tensor h = x;
  const auto& parts = named_children();
  for (size_t i = 0; i < parts.size(); i += 3) {
    h = relu(h);
    for (size_t j = i; j < i + 3; ++j) h = parts[j].second->forward(h);
  }
  return h;
}

Conv7x1_1x7::Conv7x1_1x7(int64_t c, int64_t stride, bool affine, Generator& gen) {
  register_module("1", std::make_shared<nn::Conv2d>(c, c, nn::KernelSize(1, 7),
                                                    Conv2dParams{1, stride, 0, 3, 1, 1, 1}, gen));
  register_module("2", std::make_shared<nn::Conv2d>(c, c, nn::KernelSize(7, 1),
                                                    Conv2dParams{stride, 1, 3, 0, 1, 1, 1}, gen));
  register_module("3", std::make_shared<nn::BatchNorm2d>(c, affine));
}

Tensor Conv7x1_1x7::forward(const Tensor& x) {
  Tensor h = relu(x);
  for (const auto& [name, m] : named_children()) h = m->forward(h);
  return h;
}

Tensor Pool3x3::forward(const Tensor& x) {
  return max_ ? max_pool2d(x, 3, stride_, 1) : avg_pool2d(x, 3, stride_, 1, false);
}

Tensor Zero::forward(const Tensor& x) {
  return zero_op(x, stride_);
}

std::shared_ptr<nn::Module> make_cell_op(const std::string& name, int64_t c, int64_t stride,
                                         bool affine, Generator& gen) {
  if (name == "none") return std::make_shared<Zero>(stride);
  if (name == "max_pool_3x3") return std::make_shared<Pool3x3>(true, stride);
  if (name == "avg_pool_3x3") return std::make_shared<Pool3x3>(false, stride);
  if (name == "skip_connect") {
    if (stride == 1) return std::make_shared<Identity>();
    return std::make_shared<FactorizedReduce>(c, c, affine, gen);
  }
  if (name == "sep_conv_3x3") return std::make_shared<SepConv>(c, 3, stride, 1, 2, affine, gen);
  if (name == "sep_conv_5x5") return std::make_shared<SepConv>(c, 5, stride, 1, 2, affine, gen);
  if (name == "sep_conv_7x7") return std::make_shared<SepConv>(c, 7, stride, 1, 2, affine, gen);
  if (name == "dil_conv_3x3") return std::make_shared<SepConv>(c, 3, stride, 2, 1, affine, gen);
  if (name == "dil_conv_5x5") return std::make_shared<SepConv>(c, 5, stride, 2, 1, affine, gen);
  if (name == "conv_7x1_1x7") return std::make_shared<Conv7x1_1x7>(c, stride, affine, gen);
  // The ENAS macro space's full convolutions.
  if (name == "conv_3x3") return std::make_shared<ReLUConvBN>(c, c, 3, stride, 1, affine, gen);
  if (name == "conv_5x5") return std::make_shared<ReLUConvBN>(c, c, 5, stride, 2, affine, gen);
  FUSENAS_FAIL("unknown cell op '{}'", name);
}

}  // namespace fusenas::nas
