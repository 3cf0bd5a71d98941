// The DARTS architect: first- and second-order alpha gradients.
#include "fusenas/nas/darts/architect.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/multi_tensor.h"

namespace fusenas::nas {
namespace {

// Takes the weights out of autograd for a pass that needs only input and alpha gradients, which
// spares the weight-gradient GEMMs of the backward.
class FrozenWeights {
 public:
  explicit FrozenWeights(const std::vector<Tensor>& weights) : weights_(weights) {
    for (Tensor w : weights_) w.set_requires_grad(false);
  }
  ~FrozenWeights() {
    for (Tensor w : weights_) w.set_requires_grad(true);
  }
  FrozenWeights(const FrozenWeights&) = delete;
  FrozenWeights& operator=(const FrozenWeights&) = delete;

 private:
  std::vector<Tensor> weights_;
};

void clear_grads(const std::vector<Tensor>& ts) {
  for (const auto& t : ts) t.set_grad(Tensor());
}

}  // namespace

Architect::Architect(Supernet& net, const optim::SGD& weights, const ArchitectConfig& config)
    : net_(net),
      weight_optimizer_(weights),
      config_(config),
      weights_(net.parameters()),
      alphas_(net.arch().parameters()) {
  FUSENAS_CHECK(config.order == 1 || config.order == 2, "DARTS order must be 1 or 2, got {}",
                config.order);
  optimizer_ =
      std::make_unique<optim::Adam>(alphas_, config.lr, std::make_pair(config.beta1, config.beta2),
                                    config.eps, config.weight_decay);
}

Tensor Architect::step(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                       const Tensor& y_val, double xi) {
  Tensor loss = compute_gradient(x_train, y_train, x_val, y_val, xi);
  optimizer_->step();
  return loss;
}

Tensor Architect::compute_gradient(const Tensor& x_train, const Tensor& y_train,
                                   const Tensor& x_val, const Tensor& y_val, double xi) {
  clear_grads(alphas_);
  clear_grads(weights_);
  if (config_.order == 2) return second_order(x_train, y_train, x_val, y_val, xi);
  const FrozenWeights frozen(weights_);
  Tensor loss = cross_entropy(net_.forward_mixed(x_val, true), y_val);
  loss.backward();
  return loss.detach();
}

std::vector<Tensor> Architect::alpha_gradient(const Tensor& x, const Tensor& y) {
  clear_grads(alphas_);
  {
    const FrozenWeights frozen(weights_);
    cross_entropy(net_.forward_mixed(x, true), y).backward();
  }
  std::vector<Tensor> g;
  for (const auto& a : alphas_) g.push_back(a.grad());
  clear_grads(alphas_);
  return g;
}

Tensor Architect::second_order(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                               const Tensor& y_val, double xi) {
  const std::vector<Tensor> buffers = net_.buffers();
  const std::vector<Tensor> w0 = optim::clone(weights_);
  const std::vector<Tensor> buffers0 = optim::clone(buffers);

  // The unrolled weights w' = w - xi * d, d the weight optimiser's step direction
  // g + wd * w (+ momentum * buffer), each a list operation over every weight.
  cross_entropy(net_.forward_mixed(x_train, false), y_train).backward();
  {
    const double momentum = weight_optimizer_.options().momentum;
    const double wd = weight_optimizer_.options().weight_decay;
    const NoGradGuard no_grad;
    std::vector<Tensor> grads;
    for (const Tensor& w : weights_) grads.push_back(w.grad().defined() ? w.grad() : zeros_like(w));
    const std::vector<Tensor> d = optim::clone(grads);
    if (wd != 0) optim::add_(d, w0, wd);
    if (momentum != 0) {
      std::vector<Tensor> with_buffer, buffer;
      for (size_t i = 0; i < weights_.size(); ++i) {
        const Tensor buf = weight_optimizer_.state_tensor(i, "momentum_buffer");
        if (!buf.defined()) continue;
        with_buffer.push_back(d[i]);
        buffer.push_back(buf.to(d[i].device()));
      }
      optim::add_(with_buffer, buffer, momentum);
    }
    optim::add_(weights_, d, -xi);
  }
  clear_grads(weights_);

  // L_val at w': its alpha gradient and its weight gradient v.
  Tensor val_loss = cross_entropy(net_.forward_mixed(x_val, true), y_val);
  val_loss.backward();
  const Tensor loss = val_loss.detach();
  std::vector<Tensor> direct;
  for (const auto& a : alphas_) direct.push_back(a.grad());
  std::vector<Tensor> v;
  Tensor norm2;  // ||v||^2, summed on the device
  {
    const NoGradGuard no_grad;
    for (size_t i = 0; i < weights_.size(); ++i) {
      const Tensor g = weights_[i].grad();
      v.push_back(g.defined() ? g : zeros_like(weights_[i]));
    }
    norm2 = optim::sum_of_squares(v);
  }
  clear_grads(weights_);
  clear_grads(alphas_);
  optim::copy_(weights_, w0);
  optim::copy_(buffers, buffers0);

  // Finite-difference Hessian-vector product d^2 L_train / (d alpha d w) . v, with r a 0-d
  // device tensor. The 1e-24 only keeps r finite for an all-zero v (no float32 norm^2 is that
  // small otherwise).
  Tensor half_xi_over_r;
  {
    const NoGradGuard no_grad;
    const Tensor r = div(full({}, 0.01, norm2.options()), sqrt(add_scalar(norm2, 1e-24)));
    half_xi_over_r = div(full({}, xi / 2, r.options()), r);
    optim::scale_(v, r);  // v is needed only as the shift r * v from here on
  }
  optim::add_(weights_, v, 1);
  const std::vector<Tensor> g_plus = alpha_gradient(x_train, y_train);
  optim::copy_(weights_, w0);
  optim::add_(weights_, v, -1);
  const std::vector<Tensor> g_minus = alpha_gradient(x_train, y_train);
  optim::copy_(weights_, w0);

  const NoGradGuard no_grad;
  for (size_t i = 0; i < alphas_.size(); ++i) {
    alphas_[i].set_grad(sub(direct[i], mul(sub(g_plus[i], g_minus[i]), half_xi_over_r)));
  }
  return loss;
}

}  // namespace fusenas::nas
