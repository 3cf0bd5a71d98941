// nn::BatchNorm2d: parameters, running-statistics buffers and a forward through ops::batch_norm.
#include "fusenas/engine/nn/batch_norm.h"

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nn {

BatchNorm2d::BatchNorm2d(int64_t num_features, bool affine, double momentum, double eps)
    : num_features_(num_features), momentum_(momentum), eps_(eps) {
  FUSENAS_CHECK(num_features > 0, "BatchNorm2d: num_features must be positive, got {}",
                num_features);
  if (affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
  }
  running_mean = register_buffer("running_mean", zeros({num_features}));
  running_var = register_buffer("running_var", ones({num_features}));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  FUSENAS_CHECK(x.dim() == 4 && x.shape()[3] == num_features_,
                "BatchNorm2d: expected input [N, H, W, {}], got {}", num_features_,
                shape_str(x.shape()));
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum_, eps_);
}

}  // namespace fusenas::nn
