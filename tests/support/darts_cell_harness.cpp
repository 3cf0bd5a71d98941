// The fused cell's test harness: one SearchCell, its inputs and the comparison of two runs.
#include "support/darts_cell_harness.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/nas/primitives.h"
#include "support/torch_oracle.h"

namespace fusenas::testing {

std::string name_of(const CellCase& k) {
  return fmt::format("{} ops, {} nodes, reduction {}, reduction_prev {}", k.ops.size(), k.nodes,
                     k.reduction, k.reduction_prev);
}

CellHarness::CellHarness(const CellCase& k, DType dtype, uint64_t seed, Device device)
    : device_(device), gen_(seed) {
  nas::SearchSpace space;
  space.ops = k.ops;
  space.nodes = k.nodes;
  space.channels = k.c;
  cell_ = std::make_shared<nas::SearchCell>(space, k.c_pp, k.c_p, k.c, k.reduction,
                                            k.reduction_prev, gen_);
  cell_->to(dtype);
  cell_->to(device);
  const int64_t s0_size = k.reduction_prev ? 2 * k.size : k.size;
  s0_ = normal({k.batch, s0_size, s0_size, k.c_pp}, 0, 1, gen_).to(dtype).to(device);
  s1_ = normal({k.batch, k.size, k.size, k.c_p}, 0, 1, gen_).to(dtype).to(device);
  alpha_ = normal({space.num_edges(), space.num_ops()}, 0, 0.5, gen_).to(dtype).to(device);
  const int64_t out_size = k.reduction ? k.size / 2 : k.size;
  probe_ = normal({k.batch, out_size, out_size, k.nodes * k.c}, 0, 1, gen_).to(dtype).to(device);
  for (const auto& [name, b] : cell_->named_buffers()) initial_buffers_[name] = b.clone();
}

void CellHarness::distinct_running_statistics() {
  for (auto& [name, b] : initial_buffers_) {
    if (!is_floating(b.dtype())) continue;
    Generator g(std::hash<std::string>{}(name));
    const bool var = name.find("running_var") != std::string::npos;
    b.copy_(uniform(b.shape(), var ? 0.5 : -0.5, var ? 1.5 : 0.5, g).to(b.dtype()).to(b.device()));
  }
}

Outcome CellHarness::run(bool fused, bool training, const nas::CellChoice* choice,
                         bool weights_need_grad, bool inputs_need_grad) {
  for (const auto& [name, b] : cell_->named_buffers()) b.copy_(initial_buffers_.at(name));
  for (Tensor p : cell_->parameters()) {
    p.set_grad(Tensor());
    p.set_requires_grad(weights_need_grad);
  }
  cell_->set_fused(fused);
  cell_->train(training);
  Tensor x0 = s0_.clone(), x1 = s1_.clone(), a = alpha_.clone();
  x0.set_requires_grad(inputs_need_grad);
  x1.set_requires_grad(inputs_need_grad);
  a.set_requires_grad(choice == nullptr);
  Tensor out =
      choice ? cell_->forward_sampled(x0, x1, *choice) : cell_->forward_mixed(x0, x1, softmax(a));
  if (out.requires_grad()) sum(mul(out, probe_)).backward();
  auto host = [](const Tensor& t) { return t.defined() ? t.detach().to(Device::cpu()) : Tensor(); };
  Outcome r;
  r.out = host(out);
  r.gs0 = host(x0.grad());
  r.gs1 = host(x1.grad());
  r.galpha = host(a.grad());
  for (const auto& [name, p] : cell_->named_parameters()) r.grads[name] = host(p.grad());
  for (const auto& [name, b] : cell_->named_buffers()) r.buffers[name] = host(b.clone());
  for (Tensor p : cell_->parameters()) p.set_requires_grad(true);
  return r;
}

Tensor CellHarness::evaluate(bool fused) {
  for (const auto& [name, b] : cell_->named_buffers()) b.copy_(initial_buffers_.at(name));
  cell_->set_fused(fused);
  cell_->train(false);
  const NoGradGuard no_grad;
  return cell_->forward_mixed(s0_, s1_, softmax(alpha_)).to(Device::cpu());
}

void expect_same(const Outcome& actual, const Outcome& expected, double tol,
                 const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_TENSOR_NEAR(actual.out, expected.out, tol);
  auto same_grad = [&](const Tensor& a, const Tensor& b, const std::string& name) {
    ASSERT_EQ(a.defined(), b.defined()) << name << ": gradient present on one path only";
    if (a.defined()) {
      EXPECT_LE(max_relative_error(a, b), tol) << name;
    }
  };
  same_grad(actual.gs0, expected.gs0, "s0");
  same_grad(actual.gs1, expected.gs1, "s1");
  same_grad(actual.galpha, expected.galpha, "alpha");
  for (const auto& [name, g] : expected.grads) same_grad(actual.grads.at(name), g, name);
  for (const auto& [name, b] : expected.buffers)
    EXPECT_LE(max_relative_error(actual.buffers.at(name), b), tol) << name;
}

const std::vector<CellCase>& geometry_cases() {
  static const std::vector<CellCase> cases = [] {
    std::vector<CellCase> v;
    for (const bool reduction : {false, true})
      for (const bool reduction_prev : {false, true}) {
        CellCase k;
        k.ops = nas::darts_primitives();
        k.reduction = reduction;
        k.reduction_prev = reduction_prev;
        v.push_back(k);
      }
    return v;
  }();
  return cases;
}

}  // namespace fusenas::testing
