// CUDA multi-tensor SGD and Adam against the CPU updates, a small CNN (conv-bn-relu-pool-linear +
// cross-entropy) trained with SGD momentum on both devices, and the same training step captured
// into a CUDA graph and replayed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/optim.h"
#include "support/gpu_compare.h"
#include "support/parity.h"

namespace fusenas {
namespace {

using testing::max_relative_error;
using testing::random_float;

// Parameter shapes around the kernel's 4096-element chunks, plus a scalar-like one.
const std::vector<Shape> kShapes = {{3}, {4096}, {5000}, {64, 3, 3, 16}, {70001}, {1}};

struct Params {
  std::vector<Tensor> cpu, gpu;
};

Params make_params(const std::vector<Shape>& shapes, DType dtype, uint64_t seed) {
  Params p;
  for (const auto& s : shapes) {
    Tensor t = random_float(s, seed++).to(dtype);
    p.cpu.push_back(t.clone().set_requires_grad());
    p.gpu.push_back(t.to(Device::cuda()).set_requires_grad());
  }
  return p;
}

// Gives both copies the same random gradient; parameters in `skip` get none this step.
void set_grads(const Params& p, uint64_t seed, const std::vector<size_t>& skip = {}) {
  for (size_t i = 0; i < p.cpu.size(); ++i) {
    const bool none = std::find(skip.begin(), skip.end(), i) != skip.end();
    Tensor g = random_float(p.cpu[i].shape(), seed + i).to(p.cpu[i].dtype());
    p.cpu[i].set_grad(none ? Tensor() : g);
    p.gpu[i].set_grad(none ? Tensor() : g.to(Device::cuda()));
  }
}

void expect_params_match(const Params& p, double tol, const std::string& label) {
  for (size_t i = 0; i < p.cpu.size(); ++i) {
    EXPECT_LE(max_relative_error(p.gpu[i].detach(), p.cpu[i].detach()), tol)
        << label << ", parameter " << i << " " << shape_str(p.cpu[i].shape());
  }
}

TEST(OptimGpu, SgdMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  const std::vector<std::pair<std::string, optim::SGDOptions>> configs = {
      {"plain", {}},
      {"momentum", {.momentum = 0.9}},
      {"momentum + weight decay", {.momentum = 0.9, .weight_decay = 1e-2}},
      {"nesterov", {.momentum = 0.8, .weight_decay = 1e-3, .nesterov = true}},
      {"dampening", {.momentum = 0.9, .dampening = 0.3}},
  };
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const auto& [name, options] : configs) {
      const std::string label = fmt::format("SGD {} {}", name, dtype_name(dtype));
      Params p = make_params(kShapes, dtype, 10);
      optim::SGD cpu(p.cpu, 0.05, options), gpu(p.gpu, 0.05, options);
      for (int step = 0; step < 4; ++step) {
        // Parameter 2 has no gradient on step 1: it must keep its value and its buffer.
        set_grads(p, 100 + 10 * step, step == 1 ? std::vector<size_t>{2} : std::vector<size_t>{});
        cpu.step();
        gpu.step();
        expect_params_match(p, 1e-5, fmt::format("{} step {}", label, step));
      }
    }
  }
}

TEST(OptimGpu, AdamMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  for (const DType dtype : {DType::Float32, DType::Float64}) {
    for (const double wd : {0.0, 0.05}) {
      const std::string label = fmt::format("Adam wd={} {}", wd, dtype_name(dtype));
      Params p = make_params(kShapes, dtype, 20);
      optim::Adam cpu(p.cpu, 1e-2, {0.9, 0.999}, 1e-8, wd),
          gpu(p.gpu, 1e-2, {0.9, 0.999}, 1e-8, wd);
      for (int step = 0; step < 4; ++step) {
        // Skipped parameters keep separate step counts (separate bias corrections).
        set_grads(p, 200 + 10 * step,
                  step == 1 ? std::vector<size_t>{0, 4} : std::vector<size_t>{});
        cpu.step();
        gpu.step();
        expect_params_match(p, 1e-5, fmt::format("{} step {}", label, step));
      }
    }
  }
}

// With the lr and Adam's step count on the device, one captured optimizer step replays as the
// host-scalar updates of the CPU would run, across lr changes, and the count reads back.
TEST(OptimGpu, ScalarsOnTheDeviceFollowLrChangesUnderGraphReplay) {
  FUSENAS_REQUIRE_GPU();
  Params ps = make_params(kShapes, DType::Float64, 40),
         pa = make_params(kShapes, DType::Float64, 50);
  const optim::SGDOptions so{.momentum = 0.9, .weight_decay = 1e-3};
  optim::SGD sgd_cpu(ps.cpu, 0.05, so), sgd_gpu(ps.gpu, 0.05, so);
  optim::Adam adam_cpu(pa.cpu, 1e-2, {0.5, 0.999}, 1e-8, 1e-3),
      adam_gpu(pa.gpu, 1e-2, {0.5, 0.999}, 1e-8, 1e-3);
  sgd_gpu.keep_scalars_on_device();
  adam_gpu.keep_scalars_on_device();
  auto cpu_step = [&] {
    sgd_cpu.step();
    adam_cpu.step();
  };
  auto gpu_step = [&] {
    sgd_gpu.step();
    adam_gpu.step();
  };
  // Step 0 eagerly (it creates the momentum buffers), step 1 as the capture's warm-up.
  set_grads(ps, 600);
  set_grads(pa, 700);
  cpu_step();
  gpu_step();
  set_grads(ps, 610);
  set_grads(pa, 710);
  cpu_step();
  cuda::Graph graph;
  graph.capture(gpu_step, 1);
  expect_params_match(ps, 1e-12, "SGD step 1");
  expect_params_match(pa, 1e-12, "Adam step 1");
  for (int step = 2; step < 6; ++step) {
    for (Params* p : {&ps, &pa}) {
      // The graph reads the gradient tensors it was captured with: refill them in place.
      for (size_t i = 0; i < p->cpu.size(); ++i) {
        const Tensor g = random_float(p->cpu[i].shape(), 1000 + 10 * step + i).to(DType::Float64);
        p->cpu[i].set_grad(g);
        p->gpu[i].grad().copy_(g);
      }
    }
    if (step == 3 || step == 5) {
      for (optim::Optimizer* o :
           std::initializer_list<optim::Optimizer*>{&sgd_cpu, &sgd_gpu, &adam_cpu, &adam_gpu}) {
        o->set_lr(o->lr() * 0.5);
      }
    }
    cpu_step();
    graph.replay();
    expect_params_match(ps, 1e-12, fmt::format("SGD replayed step {}", step));
    expect_params_match(pa, 1e-12, fmt::format("Adam replayed step {}", step));
  }
  // The count read back is the device's (the host ran step() only twice).
  const optim::OptimizerState state = adam_gpu.state_dict();
  EXPECT_EQ(state.scalars.at("0.step"), 6.0);
  EXPECT_EQ(state.scalars.at("5.step"), 6.0);
  EXPECT_EQ(state.scalars.at("lr"), adam_cpu.lr());

  // Loading a state writes the count to the device: the next step continues the CPU's.
  Params fresh = make_params(kShapes, DType::Float64, 50);
  for (size_t i = 0; i < fresh.gpu.size(); ++i) fresh.gpu[i].detach().copy_(pa.gpu[i].detach());
  optim::Adam reloaded(fresh.gpu, 1e-2, {0.5, 0.999}, 1e-8, 1e-3);
  reloaded.keep_scalars_on_device();
  reloaded.load_state_dict(adam_cpu.state_dict());
  for (size_t i = 0; i < pa.cpu.size(); ++i) {
    const Tensor g = random_float(pa.cpu[i].shape(), 2000 + i).to(DType::Float64);
    pa.cpu[i].set_grad(g);
    fresh.gpu[i].set_grad(g.to(Device::cuda()));
  }
  adam_cpu.step();
  reloaded.step();
  for (size_t i = 0; i < pa.cpu.size(); ++i) {
    EXPECT_LE(max_relative_error(fresh.gpu[i].detach(), pa.cpu[i].detach()), 1e-12)
        << "reloaded Adam, parameter " << i;
  }
  // One count serves every parameter on the device, so all must step.
  pa.gpu[2].set_grad(Tensor());
  EXPECT_THROW(adam_gpu.step(), Error);
}

TEST(OptimGpu, ManyParametersSpanSeveralLaunches) {
  FUSENAS_REQUIRE_GPU();
  std::vector<Shape> shapes;
  for (int i = 0; i < 130; ++i) shapes.push_back({1 + (i * 37) % 300});
  Params sgd = make_params(shapes, DType::Float32, 30);
  optim::SGD sgd_cpu(sgd.cpu, 0.1, 0.9), sgd_gpu(sgd.gpu, 0.1, 0.9);
  Params adam = make_params(shapes, DType::Float32, 30);
  optim::Adam adam_cpu(adam.cpu, 1e-3), adam_gpu(adam.gpu, 1e-3);
  for (int step = 0; step < 3; ++step) {
    set_grads(sgd, 300 + step);
    set_grads(adam, 400 + step);
    sgd_cpu.step();
    sgd_gpu.step();
    adam_cpu.step();
    adam_gpu.step();
  }
  expect_params_match(sgd, 1e-5, "SGD x130");
  expect_params_match(adam, 1e-5, "Adam x130");
}

// Clipping on CUDA (one sum-of-squares pass and one scaling pass over all gradients) against the
// CPU's per-parameter clipping: the norm, and the gradients both when clipped and when not (then
// they must stay bit for bit). 130 tensors span several launches; one parameter has no gradient.
TEST(OptimGpu, ClipGradNormMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  std::vector<Shape> shapes = kShapes;
  for (int i = 0; i < 130; ++i) shapes.push_back({1 + (i * 37) % 300});
  for (const DType dtype : {DType::Float64, DType::Float32}) {
    for (const double max_norm : {1.0, 1e9}) {
      Params p = make_params(shapes, dtype, 50);
      set_grads(p, 500, {2});
      const Tensor before = p.gpu[0].grad().clone();
      const double norm_cpu = optim::clip_grad_norm(p.cpu, max_norm);
      const double norm_gpu = optim::clip_grad_norm(p.gpu, max_norm);
      const double tol = dtype == DType::Float64 ? 1e-12 : 1e-5;
      EXPECT_NEAR(norm_gpu, norm_cpu, tol * norm_cpu);
      EXPECT_GT(norm_cpu, 1.0);
      ASSERT_FALSE(p.gpu[2].grad().defined());
      for (size_t i = 0; i < shapes.size(); ++i) {
        if (i == 2) continue;
        EXPECT_LE(max_relative_error(p.gpu[i].grad().to(Device::cpu()), p.cpu[i].grad()), tol)
            << "parameter " << i << ", max_norm " << max_norm;
      }
      if (max_norm > 1e6) {
        EXPECT_EQ(
            max_relative_error(p.gpu[0].grad().to(Device::cpu()), before.to(Device::cpu()), 0),
            0.0);
      }
    }
  }
}

// The list copy, axpy and clone on CUDA (multi-tensor launches) against the CPU's per-tensor
// copy_ and add_: copies and clones bit for bit, axpy to rounding. 130 tensors span several
// launches.
TEST(OptimGpu, ListCopyAndAxpyMatchCpu) {
  FUSENAS_REQUIRE_GPU();
  std::vector<Shape> shapes = kShapes;
  for (int i = 0; i < 130; ++i) shapes.push_back({1 + (i * 53) % 400});
  for (const DType dtype : {DType::Float64, DType::Float32}) {
    const Params dst = make_params(shapes, dtype, 700);
    const Params src = make_params(shapes, dtype, 900);
    optim::add_(dst.cpu, src.cpu, -0.37);
    optim::add_(dst.gpu, src.gpu, -0.37);
    const double tol = dtype == DType::Float64 ? 1e-14 : 1e-6;
    for (size_t i = 0; i < shapes.size(); ++i) {
      EXPECT_LE(max_relative_error(dst.gpu[i].to(Device::cpu()), dst.cpu[i]), tol) << "axpy " << i;
    }
    const std::vector<Tensor> saved = optim::clone(dst.gpu);
    optim::copy_(dst.gpu, src.gpu);
    for (size_t i = 0; i < shapes.size(); ++i) {
      EXPECT_EQ(max_relative_error(dst.gpu[i].to(Device::cpu()), src.cpu[i], 0), 0.0) << i;
      EXPECT_TRUE(saved[i].is_cuda());
      EXPECT_LE(max_relative_error(saved[i].to(Device::cpu()), dst.cpu[i]), tol) << "clone " << i;
    }
  }
}

// conv3x3 -> BN -> ReLU -> maxpool 2 -> linear, NHWC input [N, 8, 8, 3].
class SmallCnn : public nn::Module {
 public:
  explicit SmallCnn(Generator& gen) {
    conv = register_module("conv",
                           std::make_shared<nn::Conv2d>(3, 8, 3, Conv2dParams::square(1, 1), gen));
    bn = register_module("bn", std::make_shared<nn::BatchNorm2d>(8));
    fc = register_module("fc", std::make_shared<nn::Linear>(4 * 4 * 8, 10, gen));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = max_pool2d(relu(bn->forward(conv->forward(x))), 2, 2, 0);
    return fc->forward(h.reshape({h.shape()[0], -1}));
  }
  std::shared_ptr<nn::Conv2d> conv;
  std::shared_ptr<nn::BatchNorm2d> bn;
  std::shared_ptr<nn::Linear> fc;
};

struct Batch {
  Tensor x, labels;
};

Batch make_batch(uint64_t seed) {
  Generator gen(seed);
  return {random_float({16, 8, 8, 3}, seed), randint({16}, 0, 10, gen)};
}

void expect_models_match(const SmallCnn& gpu, const SmallCnn& cpu, double tol) {
  const auto g = gpu.state_dict(), c = cpu.state_dict();
  for (const auto& [name, t] : c) {
    EXPECT_LE(max_relative_error(g.at(name).to(Device::cpu()), t), tol) << name;
  }
}

TEST(OptimGpu, SmallCnnFollowsTheCpuTrajectory) {
  FUSENAS_REQUIRE_GPU();
  Generator gen_cpu(7), gen_gpu(7);
  SmallCnn cpu_model(gen_cpu);
  SmallCnn gpu_model(gen_gpu);
  gpu_model.load_state_dict(cpu_model.state_dict());
  gpu_model.to(Device::cuda());
  optim::SGD cpu_opt(cpu_model.parameters(), 0.1, 0.9);
  optim::SGD gpu_opt(gpu_model.parameters(), 0.1, 0.9);
  for (int step = 0; step < 5; ++step) {
    const Batch b = make_batch(50 + step);
    cpu_opt.zero_grad();
    gpu_opt.zero_grad();
    Tensor cpu_loss = cross_entropy(cpu_model.forward(b.x), b.labels);
    Tensor gpu_loss =
        cross_entropy(gpu_model.forward(b.x.to(Device::cuda())), b.labels.to(Device::cuda()));
    EXPECT_NEAR(gpu_loss.item(), cpu_loss.item(), 1e-4 * std::max(1.0, std::abs(cpu_loss.item())))
        << "step " << step;
    cpu_loss.backward();
    gpu_loss.backward();
    cpu_opt.step();
    gpu_opt.step();
  }
  expect_models_match(gpu_model, cpu_model, 1e-4);
}

TEST(OptimGpu, CapturedTrainingStepReplaysLikeEager) {
  FUSENAS_REQUIRE_GPU();
  const auto cuda = TensorOptions{}.with_device(Device::cuda());
  Generator gen_a(9), gen_b(9);
  SmallCnn eager(gen_a), graphed(gen_b);
  eager.to(Device::cuda());
  graphed.to(Device::cuda());
  optim::SGD eager_opt(eager.parameters(), 0.05, 0.9);
  optim::SGD graph_opt(graphed.parameters(), 0.05, 0.9);

  // The graph reads its batch from these and writes its loss here.
  Tensor input = zeros({16, 8, 8, 3}, cuda);
  Tensor labels = zeros({16}, TensorOptions{}.with_dtype(DType::Int64).with_device(Device::cuda()));
  Tensor loss_out = zeros({}, cuda);
  auto step = [&] {
    graph_opt.zero_grad();
    Tensor loss = cross_entropy(graphed.forward(input), labels);
    loss.backward();
    graph_opt.step();
    NoGradGuard guard;
    loss_out.copy_(loss);
  };
  auto load = [&](const Batch& b) {
    input.copy_(b.x.to(Device::cuda()));
    labels.copy_(b.labels.to(Device::cuda()));
  };
  // Capture runs one eager warm-up step (batch 0), then records without running.
  load(make_batch(60));
  cuda::Graph graph;
  graph.capture(step, 1);

  std::vector<double> eager_losses;
  for (int i = 0; i < 4; ++i) {
    const Batch b = make_batch(60 + i);
    eager_opt.zero_grad();
    Tensor loss = cross_entropy(eager.forward(b.x.to(Device::cuda())), b.labels.to(Device::cuda()));
    eager_losses.push_back(loss.item());
    loss.backward();
    eager_opt.step();
  }
  for (int i = 1; i < 4; ++i) {
    load(make_batch(60 + i));
    graph.replay();
    EXPECT_NEAR(loss_out.item(), eager_losses[i], 1e-5 * std::max(1.0, std::abs(eager_losses[i])))
        << "replay " << i;
  }
  expect_models_match(graphed, eager, 1e-5);
}

}  // namespace
}  // namespace fusenas
