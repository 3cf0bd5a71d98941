// nn::BatchNorm2d: per-channel batch norm over NHWC input with running statistics.
#pragma once

#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

class BatchNorm2d : public Module {
 public:
  // Parameters weight (ones) and bias (zeros) only when affine; buffers running_mean (zeros)
  // and running_var (ones) always. Training mode normalises with batch statistics and updates
  // the running ones (PyTorch's momentum convention); eval mode uses the running ones.
  explicit BatchNorm2d(int64_t num_features, bool affine = true, double momentum = 0.1,
                       double eps = 1e-5);

  std::string type_name() const override { return "BatchNorm2d"; }
  // x [N, H, W, C] -> same shape
  Tensor forward(const Tensor& x) override;

  int64_t num_features() const { return num_features_; }
  double momentum() const { return momentum_; }
  double eps() const { return eps_; }

  Tensor weight;  // undefined when !affine
  Tensor bias;    // undefined when !affine
  Tensor running_mean;
  Tensor running_var;

 private:
  int64_t num_features_;
  double momentum_, eps_;
};

}  // namespace fusenas::nn
