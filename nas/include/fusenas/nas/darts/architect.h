// The DARTS architect: the alpha gradient (first order, or second order through one unrolled
// weight step and a finite-difference Hessian-vector product) and the Adam step on the alphas.
#pragma once

#include <memory>

#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas {

// The alphas' Adam (lr, betas, weight decay: DARTS's by default) and the order.
struct ArchitectConfig : AdamSection {
  int order = 1;  // 1: gradient of L_val at the current weights; 2: unrolled
};

class Architect {
 public:
  // `weights` is the optimiser of the supernet's weights: the unrolled step reuses its momentum
  // and weight decay, as DARTS's architect does.
  Architect(Supernet& net, const optim::SGD& weights, const ArchitectConfig& config);

  // Leaves d L_val / d alpha in the alphas' .grad (and no gradient on the weights). Second order,
  // with xi the weights' current lr:
  //   w' = w - xi * (momentum * buf + grad_w L_train(w) + wd * w)
  //   g  = grad_alpha L_val(w', alpha) - xi * (grad_alpha L_train(w+) - grad_alpha L_train(w-)) /
  //   2r w+- = w +- r * grad_w' L_val(w', alpha),  r = 0.01 / ||grad_w' L_val||.
  // Weights and BN statistics are left as they were, except that the two Hessian passes update
  // the running statistics as DARTS's do. Returns L_val (at w for first order, at w') as a 0-d
  // tensor on the supernet's device: nothing is read back to the host (r included), so the step
  // can be captured into a CUDA graph.
  Tensor compute_gradient(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                          const Tensor& y_val, double xi);
  // compute_gradient, then one Adam step on the alphas.
  Tensor step(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
              const Tensor& y_val, double xi);

  optim::Adam& optimizer() { return *optimizer_; }
  const optim::Adam& optimizer() const { return *optimizer_; }
  const ArchitectConfig& config() const { return config_; }

 private:
  Tensor second_order(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                      const Tensor& y_val, double xi);
  // Gradient of L_train w.r.t. the alphas only, at the current weights.
  std::vector<Tensor> alpha_gradient(const Tensor& x, const Tensor& y);

  Supernet& net_;
  const optim::SGD& weight_optimizer_;
  ArchitectConfig config_;
  std::vector<Tensor> weights_, alphas_;
  std::unique_ptr<optim::Adam> optimizer_;
};

}  // namespace fusenas::nas
