// SGD, Adam, ASGD, the cosine schedule, clipping, LSTMCell and Linear against PyTorch 1.13 (CPU).
#include <gtest/gtest.h>

#include <map>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/optim/adam.h"
#include "fusenas/engine/optim/asgd.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/engine/optim/lr_scheduler.h"
#include "fusenas/engine/optim/sgd.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::OracleCase;
using testing::ParityBatch;
using testing::random_float;

constexpr int kSteps = 10;

struct OptimCase {
  std::string label;
  nlohmann::json params;  // for optim.py's optimizer_run
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)> make;
  DType dtype;
  double tolerance;
};

// Runs `c` here on three parameters with fixed gradient sequences (parameter 1 has no gradient
// on steps 2 and 5), queues the same run for torch, and returns our final parameters and state.
std::vector<Tensor> run_ours(const OptimCase& c, const std::vector<Tensor>& p0,
                             const std::vector<Tensor>& grads) {
  std::vector<Tensor> params;
  for (const auto& p : p0) params.push_back(p.clone().set_requires_grad());
  auto opt = c.make(params);
  for (int k = 0; k < kSteps; ++k) {
    if (c.params.contains("lrs")) opt->set_lr(c.params["lrs"][k].get<double>());
    for (size_t j = 0; j < params.size(); ++j) {
      const bool skip = j == 1 && (k == 2 || k == 5);
      params[j].set_grad(skip ? Tensor() : grads[j].narrow(0, k, 1).reshape(p0[j].shape()));
    }
    opt->step();
  }
  std::vector<Tensor> out = params;
  const auto state = opt->state_dict();
  const std::map<std::string, std::vector<const char*>> names = {
      {"sgd", {"momentum_buffer"}}, {"adam", {"exp_avg", "exp_avg_sq"}}, {"asgd", {"ax"}}};
  for (size_t j = 0; j < params.size(); ++j) {
    for (const char* name : names.at(c.params["optimizer"].get<std::string>())) {
      out.push_back(state.tensors.at(fmt::format("{}.{}", j, name)));
    }
  }
  return out;
}

TEST(OptimParity, SGDAndAdamTenStepsMatchTorch) {
  const nlohmann::json skip = {{1, 2}, {1, 5}};
  auto sgd = [](double lr, double momentum, double wd, bool nesterov, double dampening) {
    return nlohmann::json{{"optimizer", "sgd"},
                          {"hyper",
                           {{"lr", lr},
                            {"momentum", momentum},
                            {"weight_decay", wd},
                            {"nesterov", nesterov},
                            {"dampening", dampening}}}};
  };
  auto adam = [](double lr, double b1, double b2, double eps, double wd) {
    return nlohmann::json{
        {"optimizer", "adam"},
        {"hyper", {{"lr", lr}, {"beta1", b1}, {"beta2", b2}, {"eps", eps}, {"weight_decay", wd}}}};
  };
  // ASGD as NT-ASGD uses it (t0 0, lambd 0: every iterate averaged from the switch on), with the
  // lr scaled per step as AWD-LSTM does, and with torch's defaults.
  auto asgd = [](double lr, double lambd, double alpha, double t0, double wd) {
    return nlohmann::json{
        {"optimizer", "asgd"},
        {"hyper",
         {{"lr", lr}, {"lambd", lambd}, {"alpha", alpha}, {"t0", t0}, {"weight_decay", wd}}}};
  };
  std::vector<OptimCase> cases;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const double tol = dtype == DType::Float32 ? 1e-6 : 1e-12;
    const std::string tag = dtype == DType::Float32 ? " f32" : " f64";
    cases.push_back({"sgd nesterov wd" + tag, sgd(0.1, 0.9, 3e-2, true, 0),
                     [](auto p) { return std::make_unique<optim::SGD>(p, 0.1, 0.9, 3e-2, true); },
                     dtype, tol});
    cases.push_back(
        {"sgd momentum dampening wd" + tag, sgd(0.05, 0.8, 1e-3, false, 0.3),
         [](auto p) { return std::make_unique<optim::SGD>(p, 0.05, 0.8, 1e-3, false, 0.3); }, dtype,
         tol});
    cases.push_back(
        {"adam wd" + tag, adam(1e-2, 0.5, 0.999, 1e-8, 1e-2),
         [](auto p) {
           return std::make_unique<optim::Adam>(p, 1e-2, std::pair{0.5, 0.999}, 1e-8, 1e-2);
         },
         dtype, tol});
    nlohmann::json nt = asgd(0.5, 0, 0.75, 0, 1e-2);
    nt["lrs"] = {0.5, 0.25, 0.7, 0.5, 0.4, 0.5, 0.6, 0.5, 0.3, 0.5};
    cases.push_back(
        {"asgd nt-asgd varying lr" + tag, nt,
         [](auto p) {
           return std::make_unique<optim::ASGD>(p, 0.5, optim::ASGDOptions{0, 0.75, 0, 1e-2});
         },
         dtype, tol});
    cases.push_back(
        {"asgd t0 3 lambd" + tag, asgd(0.1, 0.2, 0.75, 3, 0),
         [](auto p) {
           return std::make_unique<optim::ASGD>(p, 0.1, optim::ASGDOptions{0.2, 0.75, 3, 0});
         },
         dtype, tol});
    cases.push_back({"adam defaults" + tag, adam(1e-3, 0.9, 0.999, 1e-8, 0),
                     [](auto p) { return std::make_unique<optim::Adam>(p); }, dtype, tol});
  }

  const std::vector<Shape> shapes = {{3, 5}, {7}, {2, 2, 3}};
  std::vector<OracleCase> oracle;
  std::vector<std::vector<Tensor>> ours;
  uint64_t seed = 1;
  for (auto& c : cases) {
    std::vector<Tensor> p0, grads, inputs;
    for (const auto& s : shapes) {
      Shape gs = s;
      gs.insert(gs.begin(), kSteps);
      p0.push_back(random_float(s, seed++).to(c.dtype));
      grads.push_back(random_float(gs, seed++, -2, 2).to(c.dtype));
      inputs.push_back(p0.back());
      inputs.push_back(grads.back());
    }
    c.params["steps"] = kSteps;
    c.params["skip"] = skip;
    ours.push_back(run_ours(c, p0, grads));
    oracle.push_back(
        {"optimizer_run", c.params, inputs, {}, std::vector<bool>(inputs.size(), false)});
  }
  const auto results = testing::run_torch(oracle);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].label);
    ASSERT_EQ(results[i].outputs.size(), ours[i].size());
    for (size_t k = 0; k < ours[i].size(); ++k) {
      SCOPED_TRACE(k < shapes.size() ? fmt::format("parameter {}", k)
                                     : fmt::format("state tensor {}", k - shapes.size()));
      EXPECT_TENSOR_NEAR(ours[i][k], results[i].outputs[k], cases[i].tolerance);
    }
  }
}

TEST(OptimParity, CosineScheduleMatchesTorch) {
  struct Case {
    double base_lr, eta_min;
    int64_t T_max;
  };
  const std::vector<Case> cases = {{0.025, 0.001, 20}, {0.1, 0.0, 7}, {0.05, 0.01, 3}};
  constexpr int kSchedSteps = 20;
  std::vector<OracleCase> oracle;
  std::vector<Tensor> ours;
  for (const auto& c : cases) {
    Tensor p = zeros({1}).set_requires_grad();
    optim::SGD opt({p}, c.base_lr);
    optim::CosineAnnealingLR sched(opt, c.T_max, c.eta_min);
    std::vector<double> lrs{opt.lr()};
    for (int k = 0; k < kSchedSteps; ++k) {
      sched.step();
      lrs.push_back(opt.lr());
    }
    ours.push_back(from_vector(lrs, {kSchedSteps + 1}, TensorOptions{}.with_dtype(DType::Float64)));
    oracle.push_back({"cosine_schedule",
                      {{"base_lr", c.base_lr},
                       {"eta_min", c.eta_min},
                       {"T_max", c.T_max},
                       {"steps", kSchedSteps}},
                      {},
                      {},
                      {}});
  }
  const auto results = testing::run_torch(oracle);
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(fmt::format("T_max {}", cases[i].T_max));
    // torch steps a recursive form of the same curve; they agree up to double rounding.
    EXPECT_TENSOR_NEAR(ours[i], results[i].outputs[0], 1e-12);
  }
}

TEST(OptimParity, ClipGradNormMatchesTorch) {
  std::vector<OracleCase> oracle;
  std::vector<std::vector<Tensor>> ours;
  for (double max_norm : {0.5, 1e3}) {
    std::vector<Tensor> grads = {random_float({3, 4}, 1), random_float({5}, 2, -3, 3),
                                 random_float({2, 2, 2}, 3)};
    oracle.push_back({"clip_grad_norm",
                      {{"max_norm", max_norm}},
                      grads,
                      {},
                      std::vector<bool>(grads.size(), false)});
    std::vector<Tensor> params;
    for (const auto& g : grads) {
      params.push_back(zeros_like(g).set_requires_grad());
      params.back().set_grad(g.clone());
    }
    const double norm = optim::clip_grad_norm(params, max_norm);
    std::vector<Tensor> out{
        from_vector(std::vector<double>{norm}, {1}, TensorOptions{}.with_dtype(DType::Float64))};
    for (const auto& p : params) out.push_back(p.grad());
    ours.push_back(out);
  }
  const auto results = testing::run_torch(oracle);
  for (size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE(i == 0 ? "clipped" : "not clipped");
    ASSERT_EQ(results[i].outputs.size(), ours[i].size());
    for (size_t k = 0; k < ours[i].size(); ++k) {
      EXPECT_TENSOR_NEAR(ours[i][k], results[i].outputs[k], 1e-6);
    }
  }
}

TEST(NnParity, LSTMCellForwardAndBackward) {
  ParityBatch batch;
  for (const char* first : {"h", "c"}) {
    // A fresh cell per case, same seed, so gradients accumulated by one case stay out of the
    // other's; the cell's own parameter tensors are the inputs torch receives.
    Generator gen(31);
    auto cell = std::make_shared<nn::LSTMCell>(6, 5, gen);
    std::vector<Tensor> inputs{random_float({4, 6}, 1), random_float({4, 5}, 2),
                               random_float({4, 5}, 3)};
    for (const auto& p : cell->parameters()) inputs.push_back(p);
    const bool c_first = std::string(first) == "c";
    batch.add(std::string("lstm_cell d/d") + first, "lstm_cell", {{"first", first}}, inputs,
              testing::MultiFn([cell, c_first](const std::vector<Tensor>& x) {
                const auto s = cell->forward(x[0], {x[1], x[2]});
                return c_first ? std::vector{s.c, s.h} : std::vector{s.h, s.c};
              }));
  }
  batch.check();
}

TEST(NnParity, LinearForwardAndBackward) {
  ParityBatch batch;
  for (bool bias : {true, false}) {
    Generator gen(41);
    auto lin = std::make_shared<nn::Linear>(64, 10, gen, bias);
    std::vector<Tensor> inputs{random_float({8, 5, 64}, 1)};
    for (const auto& p : lin->parameters()) inputs.push_back(p);
    batch.add(bias ? "linear" : "linear no bias", "linear_module", {}, inputs,
              [lin](const std::vector<Tensor>& x) { return lin->forward(x[0]); });
  }
  batch.check();
}

}  // namespace
}  // namespace fusenas
