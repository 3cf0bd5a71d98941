// nn::Module bookkeeping (naming, state_dict, modes, dtype moves), Linear/Sequential/LSTMCell,
// and the optimizers, cosine schedule and gradient clipping on hand-worked examples.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/nn/activation.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/sequential.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/adam.h"
#include "fusenas/engine/optim/clip_grad.h"
#include "fusenas/engine/optim/lr_scheduler.h"
#include "fusenas/engine/optim/multi_tensor.h"
#include "fusenas/engine/optim/sgd.h"
#include "support/expect.h"
#include "support/gradcheck.h"

namespace fusenas {
namespace {

using nn::Module;
using testing::expect_error;
using testing::expect_values;

std::vector<std::string> names_of(const nn::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

Tensor dvec(std::vector<double> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return from_vector(v, {n}, TensorOptions{}.with_dtype(DType::Float64));
}

// A module with its own parameter and buffer around a child Sequential, like a small network.
class Net : public Module {
 public:
  explicit Net(Generator& gen) {
    scale = register_parameter("scale", ones({2}));
    features = register_module(
        "features",
        nn::make_sequential({std::make_shared<nn::Linear>(4, 3, gen), std::make_shared<nn::ReLU>(),
                             std::make_shared<nn::Linear>(3, 2, gen, /*bias=*/false)}));
    steps = register_buffer("steps", zeros({1}));
  }
  std::string type_name() const override { return "Net"; }
  Tensor forward(const Tensor& x) override { return mul(features->forward(x), scale); }

  Tensor scale, steps;
  std::shared_ptr<nn::Sequential> features;
};

TEST(NnModule, HierarchicalNamesInRegistrationOrder) {
  Generator gen(1);
  Net net(gen);
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"scale", "features.0.weight", "features.0.bias",
                                      "features.2.weight"}));
  EXPECT_EQ(names_of(net.named_buffers()), (std::vector<std::string>{"steps"}));
  const auto params = net.parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_TRUE(params[0].same(net.scale));
  for (const auto& p : params) EXPECT_TRUE(p.requires_grad());
  EXPECT_FALSE(net.steps.requires_grad());
  auto modules = net.named_modules();
  std::vector<std::string> module_names;
  for (const auto& [name, m] : modules) module_names.push_back(name + ":" + m->type_name());
  EXPECT_EQ(module_names,
            (std::vector<std::string>{":Net", "features:Sequential", "features.0:Linear",
                                      "features.1:ReLU", "features.2:Linear"}));
}

TEST(NnModule, SharedParameterIsListedOnce) {
  Generator gen(2);
  auto shared = std::make_shared<nn::Linear>(2, 2, gen);
  nn::Sequential seq{shared, shared};
  EXPECT_EQ(names_of(seq.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(seq.state_dict().size(), 2u);
}

TEST(NnModule, RegistrationErrors) {
  Module m;
  m.register_parameter("w", zeros({2}));
  expect_error([&] { m.register_buffer("w", zeros({2})); }, {"'w'", "already in use"});
  expect_error([&] { m.register_parameter("a.b", zeros({2})); }, {"'a.b'"});
  expect_error([&] { m.register_parameter("", zeros({2})); }, {"bad parameter name"});
  expect_error(
      [&] { m.register_parameter("i", zeros({2}, TensorOptions{}.with_dtype(DType::Int64))); },
      {"floating"});
  expect_error([&] { m.forward(zeros({1})); }, {"Module", "forward"});
}

TEST(NnModule, StateDictRoundTrip) {
  Generator gen_a(3), gen_b(4);
  Net a(gen_a), b(gen_b);
  a.steps.fill_(7);
  const auto sa = a.state_dict();
  EXPECT_EQ(sa.size(), 5u);
  EXPECT_TRUE(sa.count("features.0.bias"));
  EXPECT_TRUE(sa.count("steps"));
  EXPECT_FALSE(sa.at("scale").requires_grad());

  const auto result = b.load_state_dict(sa);
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_TRUE(result.unexpected_keys.empty());
  for (const auto& [name, t] : b.state_dict()) {
    EXPECT_EQ(t.to_vector<double>(), sa.at(name).to_vector<double>()) << name;
  }
  // Loading copies: b's tensors are its own, not aliases of a's.
  a.features->operator[](0)->named_parameters()[0].second.fill_(5);
  EXPECT_NE(b.state_dict().at("features.0.weight").to_vector<double>(),
            a.state_dict().at("features.0.weight").to_vector<double>());
  EXPECT_EQ(b.steps.item(), 7);
  // A state dict sees the module's live storage, like PyTorch's.
  a.scale.detach().fill_(3);
  EXPECT_EQ(sa.at("scale").to_vector<float>(), (std::vector<float>{3, 3}));
}

TEST(NnModule, StateDictErrorsNameTheKeyAndShapes) {
  Generator gen(5);
  Net net(gen);
  const auto before = net.state_dict().at("features.0.weight").to_vector<float>();

  auto missing = net.state_dict();
  for (auto& [name, t] : missing) t = t.clone();
  missing.erase("features.2.weight");
  expect_error([&] { net.load_state_dict(missing); }, {"missing", "features.2.weight"});

  auto unexpected = net.state_dict();
  unexpected["features.9.weight"] = zeros({1});
  expect_error([&] { net.load_state_dict(unexpected); }, {"unexpected", "features.9.weight"});

  auto wrong_shape = net.state_dict();
  wrong_shape["scale"] = zeros({3});
  wrong_shape["features.0.weight"] = full({3, 4}, 9.0);
  expect_error([&] { net.load_state_dict(wrong_shape); }, {"'scale'", "[3]", "[2]"});
  // Nothing was written by the failed load.
  EXPECT_EQ(net.state_dict().at("features.0.weight").to_vector<float>(), before);
  // Non-strict tolerates missing and unexpected keys and reports them; shapes still must match.
  auto partial = nn::StateDict{{"scale", full({2}, 4.0)}, {"extra", zeros({1})}};
  const auto result = net.load_state_dict(partial, /*strict=*/false);
  EXPECT_EQ(result.unexpected_keys, (std::vector<std::string>{"extra"}));
  EXPECT_EQ(result.missing_keys.size(), 4u);
  EXPECT_EQ(net.scale.to_vector<float>(), (std::vector<float>{4, 4}));
  expect_error([&] { net.load_state_dict({{"scale", zeros({5})}}, false); }, {"'scale'", "[5]"});
}

TEST(NnModule, TrainEvalPropagatesToChildren) {
  Generator gen(6);
  Net net(gen);
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (const auto& [name, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net.features->train();
  EXPECT_FALSE(net.is_training());
  EXPECT_TRUE((*net.features)[1]->is_training());
  net.train();
  for (const auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
}

TEST(NnModule, ZeroGradAndDtypeMoveKeepHandles) {
  Generator gen(7);
  Net net(gen);
  const Tensor x = uniform({5, 4}, -1, 1, gen);
  sum(net.forward(x)).backward();
  for (const auto& p : net.parameters()) EXPECT_TRUE(p.grad().defined());

  const Tensor w = net.parameters()[1];
  const auto values = w.to_vector<double>();
  net.to(DType::Float64);
  EXPECT_TRUE(w.same(net.parameters()[1]));
  EXPECT_EQ(w.dtype(), DType::Float64);
  EXPECT_EQ(w.grad().dtype(), DType::Float64);
  EXPECT_EQ(w.to_vector<double>(), values);
  EXPECT_EQ(net.steps.dtype(), DType::Float64);
  EXPECT_EQ(net.forward(x.to(DType::Float64)).dtype(), DType::Float64);

  net.zero_grad();
  for (const auto& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
  net.to(Device::cpu());  // already there: a no-op
  EXPECT_TRUE(w.same(net.parameters()[1]));
}

TEST(NnLinear, DefaultInitBoundsAndSeeding) {
  Generator g1(11), g2(11), g3(12);
  nn::Linear a(16, 8, g1), b(16, 8, g2), c(16, 8, g3);
  EXPECT_EQ(a.weight.shape(), (Shape{8, 16}));
  EXPECT_EQ(a.bias.shape(), (Shape{8}));
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_NE(a.weight.to_vector<float>(), c.weight.to_vector<float>());
  const double bound = 1.0 / std::sqrt(16.0);
  double lo = 1, hi = -1;
  for (const Tensor& t : {a.weight, a.bias}) {
    for (float v : t.to_vector<float>()) {
      EXPECT_LE(std::abs(v), bound + 1e-7);
      lo = std::min<double>(lo, v);
      hi = std::max<double>(hi, v);
    }
  }
  EXPECT_LT(lo, -0.8 * bound);
  EXPECT_GT(hi, 0.8 * bound);
  nn::Linear no_bias(3, 2, g1, false);
  EXPECT_FALSE(no_bias.bias.defined());
  EXPECT_EQ(no_bias.parameters().size(), 1u);
}

TEST(NnSequential, LinearReluChainMatchesManualComposition) {
  Generator gen(13);
  auto l1 = std::make_shared<nn::Linear>(4, 6, gen);
  auto l2 = std::make_shared<nn::Linear>(6, 3, gen);
  nn::Sequential seq;
  seq.push_back(l1);
  seq.push_back(std::make_shared<nn::ReLU>());
  seq.push_back(l2);
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[1]->type_name(), "ReLU");
  EXPECT_THROW(seq[3], Error);
  const Tensor x = uniform({2, 5, 4}, -1, 1, gen);
  const Tensor y = seq(x);
  EXPECT_EQ(y.shape(), (Shape{2, 5, 3}));
  const Tensor expected = linear(relu(linear(x, l1->weight, l1->bias)), l2->weight, l2->bias);
  EXPECT_EQ(y.to_vector<float>(), expected.to_vector<float>());
  sum(y).backward();
  for (const auto& p : seq.parameters()) EXPECT_TRUE(p.grad().defined());
}

TEST(NnLSTMCell, LayoutInitAndErrors) {
  Generator gen(14);
  nn::LSTMCell cell(3, 5, gen);
  EXPECT_EQ(names_of(cell.named_parameters()),
            (std::vector<std::string>{"weight_ih", "weight_hh", "bias_ih", "bias_hh"}));
  EXPECT_EQ(cell.weight_ih.shape(), (Shape{20, 3}));
  EXPECT_EQ(cell.weight_hh.shape(), (Shape{20, 5}));
  EXPECT_EQ(cell.bias_hh.shape(), (Shape{20}));
  const double bound = 1.0 / std::sqrt(5.0);
  for (const auto& p : cell.parameters()) {
    for (float v : p.to_vector<float>()) EXPECT_LE(std::abs(v), bound + 1e-7);
  }
  const auto state = cell.zero_state(2);
  EXPECT_EQ(state.h.shape(), (Shape{2, 5}));
  const auto next = cell.forward(uniform({2, 3}, -1, 1, gen), state);
  EXPECT_EQ(next.h.shape(), (Shape{2, 5}));
  EXPECT_EQ(next.c.shape(), (Shape{2, 5}));
  expect_error([&] { cell.forward(zeros({2, 4}), state); }, {"LSTMCell", "[2, 4]"});
  expect_error([&] { cell.forward(zeros({2, 3}), cell.zero_state(3)); }, {"LSTMCell", "[3, 5]"});
  expect_error([&] { cell.forward(zeros({2, 3})); }, {"LSTMCell"});
}

TEST(NnLSTMCell, GateOrderOnAHandWorkedStep) {
  // Hidden size 1, input size 1, zero state: gates = w_ih * x + b_ih + b_hh.
  Generator gen(15);
  nn::LSTMCell cell(1, 1, gen);
  cell.to(DType::Float64);
  NoGradGuard no_grad;
  cell.weight_ih.copy_(dvec({1, 2, 3, 4}).reshape({4, 1}));
  cell.weight_hh.fill_(0);
  cell.bias_ih.copy_(dvec({0.1, 0.2, 0.3, 0.4}));
  cell.bias_hh.fill_(0);
  const double x = 0.5, c0 = 0.25;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  const double i = sig(0.6), f = sig(1.2), g = std::tanh(1.8), o = sig(2.4);
  const auto out = cell.forward(dvec({x}).reshape({1, 1}),
                                {dvec({0.7}).reshape({1, 1}), dvec({c0}).reshape({1, 1})});
  const double c1 = f * c0 + i * g;
  expect_values(out.c, {c1});
  expect_values(out.h, {o * std::tanh(c1)});
}

TEST(NnLSTMCell, GradientsMatchFiniteDifferencesInDouble) {
  Generator gen(16);
  nn::LSTMCell cell(3, 4, gen);
  cell.to(DType::Float64);
  std::vector<Tensor> inputs{testing::random_double({2, 3}, 1), testing::random_double({2, 4}, 2),
                             testing::random_double({2, 4}, 3)};
  for (const auto& p : cell.parameters()) inputs.push_back(p);
  // The module reads its parameters itself; they are listed so gradcheck perturbs them too.
  auto h_of = [&](const std::vector<Tensor>& v) { return cell.forward(v[0], {v[1], v[2]}).h; };
  auto c_of = [&](const std::vector<Tensor>& v) { return cell.forward(v[0], {v[1], v[2]}).c; };
  testing::expect_gradients_match(h_of, inputs);
  testing::expect_gradients_match(c_of, inputs);
}

// Two parameters stepped by `opt` with the given gradient sequences (undefined = no gradient).
void run_steps(optim::Optimizer& opt, const std::vector<std::vector<Tensor>>& grads) {
  for (const auto& step : grads) {
    for (size_t j = 0; j < step.size(); ++j) opt.params()[j].set_grad(step[j]);
    opt.step();
  }
}

TEST(OptimSGD, MomentumTwoStepsByHand) {
  Tensor p = dvec({1.0, -2.0}).set_requires_grad();
  optim::SGD opt({p}, 0.1, 0.9);
  run_steps(opt, {{dvec({0.5, -1.0})}, {dvec({0.25, 0.5})}});
  // buf1 = g1; p1 = p0 - 0.1*g1 = [0.95, -1.9]; buf2 = 0.9*g1 + g2 = [0.7, -0.4];
  // p2 = p1 - 0.1*buf2 = [0.88, -1.86].
  expect_values(p, {0.88, -1.86});
  expect_values(opt.state_dict().tensors.at("0.momentum_buffer"), {0.7, -0.4});
}

TEST(OptimSGD, NesterovWithWeightDecayByHand) {
  Tensor p = dvec({1.0, -2.0}).set_requires_grad();
  optim::SGD opt({p}, 0.1, 0.9, /*weight_decay=*/0.1, /*nesterov=*/true);
  run_steps(opt, {{dvec({0.5, -1.0})}, {dvec({0.25, 0.5})}});
  // d1 = g1 + 0.1*p0 = [0.6, -1.2] = buf1; d1' = d1 + 0.9*buf1 = [1.14, -2.28];
  // p1 = [0.886, -1.772]; d2 = g2 + 0.1*p1 = [0.3386, 0.3228];
  // buf2 = 0.9*buf1 + d2 = [0.8786, -0.7572]; d2' = d2 + 0.9*buf2 = [1.12934, -0.35868];
  // p2 = p1 - 0.1*d2' = [0.773066, -1.736132].
  expect_values(p, {0.773066, -1.736132});
}

TEST(OptimSGD, DampeningSkipsTheFirstStep) {
  Tensor p = dvec({1.0, -2.0}).set_requires_grad();
  optim::SGD opt({p}, 0.1, optim::SGDOptions{.momentum = 0.9, .dampening = 0.5});
  run_steps(opt, {{dvec({0.5, -1.0})}, {dvec({0.25, 0.5})}});
  // buf1 = g1 (undamped); buf2 = 0.9*g1 + 0.5*g2 = [0.575, -0.65]; p2 = [0.8925, -1.835].
  expect_values(p, {0.8925, -1.835});
}

TEST(OptimSGD, PlainStepFloat32AndSkipsParametersWithoutGrad) {
  Tensor a = from_vector(std::vector<float>{1, 2}, {2}).set_requires_grad();
  Tensor b = from_vector(std::vector<float>{3}, {1}).set_requires_grad();
  optim::SGD opt({a, b}, 0.5, 0.9);
  run_steps(opt, {{from_vector(std::vector<float>{1, -1}, {2}), Tensor()}});
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0.5f, 2.5f}));
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{3}));
  const auto state = opt.state_dict();
  EXPECT_TRUE(state.tensors.count("0.momentum_buffer"));
  EXPECT_FALSE(state.tensors.count("1.momentum_buffer"));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  opt.step();  // nothing has a gradient: nothing moves
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0.5f, 2.5f}));
}

TEST(OptimSGD, ArgumentErrors) {
  Tensor p = zeros({2}).set_requires_grad();
  EXPECT_THROW(optim::SGD({p}, -0.1), Error);
  expect_error([&] { optim::SGD({p}, 0.1, 0, 0, /*nesterov=*/true); }, {"Nesterov"});
  expect_error([&] { optim::SGD({p, p}, 0.1); }, {"listed twice"});
  optim::SGD opt({p}, 0.1);
  opt.set_lr(0.05);
  EXPECT_EQ(opt.lr(), 0.05);
  EXPECT_THROW(opt.set_lr(std::nan("")), Error);
}

// The list operations on the CPU, worked by hand: clone is a separate copy, add_ is an axpy per
// pair, copy_ restores; lists of different lengths or shapes are refused.
TEST(OptimLists, CloneAxpyCopyByHand) {
  const std::vector<Tensor> a = {dvec({1.0, -2.0}), dvec({0.5})};
  const std::vector<Tensor> b = {dvec({4.0, 8.0}), dvec({-1.0})};
  const std::vector<Tensor> saved = optim::clone(a);
  optim::add_(a, b, -0.25);
  expect_values(a[0], {0.0, -4.0});
  expect_values(a[1], {0.75});
  expect_values(saved[0], {1.0, -2.0});
  optim::copy_(a, saved);
  expect_values(a[0], {1.0, -2.0});
  expect_values(a[1], {0.5});
  expect_error([&] { optim::add_(a, {b[0]}, 1.0); }, {"lists of different lengths"});
  expect_error([&] { optim::copy_({a[0]}, {b[1]}); }, {"shapes [2] and [1]"});
}

TEST(OptimAdam, TwoStepsByHand) {
  Tensor p = dvec({1.0, -2.0}).set_requires_grad();
  optim::Adam opt({p}, 0.1);
  run_steps(opt, {{dvec({0.5, -1.0})}});
  // Step 1: m = 0.1*g, v = 0.001*g^2, so m_hat = g and v_hat = g^2: p -= 0.1 * g/(|g| + 1e-8).
  expect_values(p, {1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 1 / (1 + 1e-8)});
  run_steps(opt, {{dvec({0.25, 0.5})}});
  // Step 2: m = [0.07, -0.04], v = [3.1225e-4, 1.249e-3], bc1 = 0.19, bc2 = 0.001999;
  // p -= 0.1 * (m/bc1) / (sqrt(v/bc2) + 1e-8).
  expect_values(p, {0.8067820404774624, -1.873366297370903});
  const auto state = opt.state_dict();
  expect_values(state.tensors.at("0.exp_avg"), {0.07, -0.04});
  expect_values(state.tensors.at("0.exp_avg_sq"), {3.1225e-4, 1.249e-3});
  EXPECT_EQ(state.scalars.at("0.step"), 2);
  EXPECT_EQ(state.scalars.at("lr"), 0.1);
}

TEST(OptimAdam, WeightDecayAddsToTheGradient) {
  // With wd the first step sees g + wd*p; g = [0.4, -0.8], wd = 0.25, p0 = [0.4, 0.8] gives
  // an effective gradient of [0.5, -0.6]: the first Adam step is then -lr*sign.
  Tensor p = dvec({0.4, 0.8}).set_requires_grad();
  optim::Adam opt({p}, 0.01, {0.9, 0.999}, 0.0, /*weight_decay=*/0.25);
  run_steps(opt, {{dvec({0.4, -0.8})}});
  expect_values(p, {0.39, 0.81});
}

TEST(OptimAdam, PerParameterStepCounts) {
  Tensor a = dvec({1.0}).set_requires_grad();
  Tensor b = dvec({1.0}).set_requires_grad();
  optim::Adam opt({a, b}, 0.1);
  run_steps(opt, {{dvec({1.0}), Tensor()}, {dvec({1.0}), dvec({1.0})}});
  const auto state = opt.state_dict();
  EXPECT_EQ(state.scalars.at("0.step"), 2);
  EXPECT_EQ(state.scalars.at("1.step"), 1);
  // b's first step is a full lr step, as if it had been stepped alone.
  expect_values(b, {1 - 0.1 / (1 + 1e-8)});
}

TEST(OptimState, CheckpointResumeMatchesAnUninterruptedRun) {
  Generator gen(21);
  const Tensor p0 = uniform({3, 4}, -1, 1, gen);
  std::vector<Tensor> grads;
  for (int k = 0; k < 5; ++k) grads.push_back(uniform({3, 4}, -1, 1, gen));
  for (int kind = 0; kind < 2; ++kind) {
    auto make = [&](Tensor p) -> std::unique_ptr<optim::Optimizer> {
      if (kind == 0) return std::make_unique<optim::SGD>(std::vector{p}, 0.1, 0.9, 1e-3, true);
      return std::make_unique<optim::Adam>(std::vector{p}, 0.01, std::pair{0.5, 0.999}, 1e-8, 1e-3);
    };
    Tensor straight = p0.clone().set_requires_grad();
    auto opt = make(straight);
    for (const auto& g : grads) run_steps(*opt, {{g}});

    Tensor first = p0.clone().set_requires_grad();
    auto opt1 = make(first);
    for (int k = 0; k < 3; ++k) run_steps(*opt1, {{grads[k]}});
    const auto saved = opt1->state_dict();
    Tensor resumed = first.detach().clone().set_requires_grad();
    run_steps(*opt1, {{grads[3]}});  // the saved copies must not see later steps

    auto opt2 = make(resumed);
    opt2->set_lr(123);  // the checkpoint restores lr too
    opt2->load_state_dict(saved);
    EXPECT_EQ(opt2->lr(), opt->lr());
    for (int k = 3; k < 5; ++k) run_steps(*opt2, {{grads[k]}});
    EXPECT_EQ(resumed.to_vector<float>(), straight.to_vector<float>()) << "kind " << kind;
  }
}

TEST(OptimState, LoadErrorsNameTheKey) {
  Tensor p = zeros({2, 2}).set_requires_grad();
  optim::Adam opt({p});
  optim::OptimizerState bad;
  bad.tensors["0.exp_avg"] = zeros({3});
  expect_error([&] { opt.load_state_dict(bad); }, {"'0.exp_avg'", "[3]", "[2, 2]"});
  bad.tensors = {{"1.exp_avg", zeros({2, 2})}};
  expect_error([&] { opt.load_state_dict(bad); }, {"'1.exp_avg'"});
  bad.tensors = {{"0.momentum_buffer", zeros({2, 2})}};
  expect_error([&] { opt.load_state_dict(bad); }, {"'0.momentum_buffer'"});
  bad.tensors.clear();
  bad.scalars = {{"0.steps", 1}};
  expect_error([&] { opt.load_state_dict(bad); }, {"'0.steps'"});
}

TEST(OptimState, StateFollowsAModuleMovedAfterConstruction) {
  Generator gen(22);
  nn::Linear lin(3, 2, gen);
  optim::SGD opt(lin.parameters(), 0.1, 0.9);
  const Tensor x = uniform({4, 3}, -1, 1, gen);
  sum(lin(x)).backward();
  opt.step();
  lin.to(DType::Float64);
  opt.zero_grad();
  sum(lin(x.to(DType::Float64))).backward();
  opt.step();
  EXPECT_EQ(opt.state_dict().tensors.at("0.momentum_buffer").dtype(), DType::Float64);
}

TEST(OptimCosine, ClosedFormByHand) {
  Tensor p = zeros({1}).set_requires_grad();
  optim::SGD opt({p}, 0.1);
  optim::CosineAnnealingLR sched(opt, 4, 0.01);
  EXPECT_EQ(sched.last_epoch(), 0);
  EXPECT_DOUBLE_EQ(opt.lr(), 0.1);
  const double r = std::sqrt(0.5);  // cos(pi/4)
  const std::vector<double> expected = {0.01 + 0.09 * (1 + r) / 2, 0.055, 0.01 + 0.09 * (1 - r) / 2,
                                        0.01, 0.01 + 0.09 * (1 - r) / 2};  // periodic past T_max
  for (double e : expected) {
    sched.step();
    EXPECT_NEAR(opt.lr(), e, 1e-15) << "epoch " << sched.last_epoch();
    EXPECT_EQ(sched.last_lr(), opt.lr());
  }
  optim::SGD opt2({p}, 0.1);
  optim::CosineAnnealingLR sched2(opt2, 4, 0.01);
  sched2.load_state_dict(sched.state_dict());
  EXPECT_EQ(sched2.last_epoch(), 5);
  EXPECT_EQ(opt2.lr(), opt.lr());
  EXPECT_THROW(optim::CosineAnnealingLR(opt, 0), Error);
}

TEST(OptimClip, ScalesOnlyAboveTheThreshold) {
  Tensor a = zeros({2}).set_requires_grad();
  Tensor b = zeros({1}).set_requires_grad();
  Tensor c = zeros({3}).set_requires_grad();  // no gradient: skipped
  auto set = [&] {
    a.set_grad(dvec({3, 4}).to(DType::Float32));
    b.set_grad(dvec({12}).to(DType::Float32));
  };
  set();
  EXPECT_NEAR(optim::clip_grad_norm({a, b, c}, 20), 13, 1e-6);
  EXPECT_EQ(a.grad().to_vector<float>(), (std::vector<float>{3, 4}));
  set();
  EXPECT_NEAR(optim::clip_grad_norm({a, b, c}, 6.5), 13, 1e-6);
  const double coef = 6.5 / (13 + 1e-6);
  expect_values(a.grad(), {3 * coef, 4 * coef}, 1e-6);
  expect_values(b.grad(), {12 * coef}, 1e-6);
  EXPECT_FALSE(c.grad().defined());
  EXPECT_EQ(optim::clip_grad_norm({c}, 1), 0);
}

}  // namespace
}  // namespace fusenas
