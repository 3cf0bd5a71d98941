// One DARTS search step (first and second order) on CUDA against the same step on the CPU, from
// the same weights, alphas and batches. In float64 rounding is out of the picture, so losses,
// alphas and weights must agree almost exactly: any larger gap is a logic error. In float32 the
// weight gradients pass through five cells of batch norm over 4 images, which amplifies the
// different summation orders to ~1e-4 relative after one step, so only the first-order losses
// are compared (the second order's finite differences amplify it further).
#include <gtest/gtest.h>

#include <array>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/nas/darts/search_step.h"
#include "support/darts_search_side.h"
#include "support/gpu_compare.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

using testing::SearchSide;

SearchSide make_side(const SearchSpace& space, int order, DType dtype, Device device,
                     ArchitectConfig ac = {}) {
  return testing::make_search_side(
      space, {.order = order, .dtype = dtype, .device = device, .seed = 21, .architect = ac});
}

SearchSpace small_space() {
  SearchSpace space;
  space.channels = 8;
  space.cells = 5;
  space.in_channels = 3;
  space.image_size = 8;
  return space;
}

// Three cells (a reduction at 1 and 2) hold every kind of cell a capture must get right; batches
// of 2 keep the emulated second-order steps within seconds.
SearchSpace capture_space() {
  SearchSpace space = small_space();
  space.cells = 3;
  return space;
}

struct Case {
  int order;
  DType dtype;
};
void PrintTo(const Case& c, std::ostream* os) {
  *os << "order " << c.order << (c.dtype == DType::Float64 ? " float64" : " float32");
}

class DartsGpu : public ::testing::TestWithParam<Case> {};

TEST_P(DartsGpu, SearchStepMatchesCpu) {
  FUSENAS_REQUIRE_GPU();
  const auto [order, dtype] = GetParam();
  const bool exact = dtype == DType::Float64;
  const SearchSpace space = small_space();
  SearchSide cpu = make_side(space, order, dtype, Device::cpu());
  SearchSide gpu = make_side(space, order, dtype, Device::cuda());
  Generator gen(4);
  const double loss_tol = exact ? 1e-10 : 1e-4;
  for (int step = 0; step < 2; ++step) {
    const Tensor xt = normal({4, 8, 8, 3}, 0, 1, gen).to(dtype);
    const Tensor xv = normal({4, 8, 8, 3}, 0, 1, gen).to(dtype);
    const Tensor yt = randint({4}, 0, 10, gen), yv = randint({4}, 0, 10, gen);
    const SearchStepResult a =
        darts_search_step(*cpu.net, *cpu.architect, *cpu.sgd, 5.0, xt, yt, xv, yv);
    const SearchStepResult b =
        darts_search_step(*gpu.net, *gpu.architect, *gpu.sgd, 5.0, xt.to(Device::cuda()),
                          yt.to(Device::cuda()), xv.to(Device::cuda()), yv.to(Device::cuda()));
    EXPECT_NEAR(a.train_loss.item(), b.train_loss.item(), loss_tol * std::abs(a.train_loss.item()))
        << "step " << step;
    EXPECT_NEAR(a.val_loss.item(), b.val_loss.item(), loss_tol * std::abs(a.val_loss.item()))
        << "step " << step;
  }
  if (!exact) return;
  // Second order takes a finite-difference Hessian-vector product, whose eps divides rounding.
  const double tol = order == 1 ? 1e-10 : 1e-8;
  testing::expect_sides_match(gpu, cpu, tol);
}

// The whole search step, architect included, captures into one CUDA graph, which only works when
// nothing in it waits for the host; replays then equal eager steps. Adam's bias corrections are
// host scalars baked into a graph, so the architect runs with beta1 = beta2 = 0, where they are
// 1 at every step.
class DartsCapture : public ::testing::TestWithParam<int> {};

TEST_P(DartsCapture, CapturedStepReplaysLikeEager) {
  FUSENAS_REQUIRE_GPU();
  const int order = GetParam();
  ArchitectConfig ac;
  ac.beta1 = 0;
  ac.beta2 = 0;
  SearchSide eager = make_side(capture_space(), order, DType::Float64, Device::cuda(), ac);
  SearchSide graphed = make_side(capture_space(), order, DType::Float64, Device::cuda(), ac);
  const auto f64 = TensorOptions{}.with_dtype(DType::Float64).with_device(Device::cuda());
  const auto i64 = TensorOptions{}.with_dtype(DType::Int64).with_device(Device::cuda());
  Tensor xt = zeros({2, 8, 8, 3}, f64), xv = zeros({2, 8, 8, 3}, f64);
  Tensor yt = zeros({2}, i64), yv = zeros({2}, i64), train_loss = zeros({}, f64);
  auto step = [&] {
    const SearchStepResult r =
        darts_search_step(*graphed.net, *graphed.architect, *graphed.sgd, 5.0, xt, yt, xv, yv);
    const NoGradGuard no_grad;
    train_loss.copy_(r.train_loss);
  };
  std::vector<std::array<Tensor, 4>> batches;
  Generator gen(8);
  for (int i = 0; i < 3; ++i) {
    batches.push_back({normal({2, 8, 8, 3}, 0, 1, gen, f64), randint({2}, 0, 10, gen, i64),
                       normal({2, 8, 8, 3}, 0, 1, gen, f64), randint({2}, 0, 10, gen, i64)});
  }
  auto load = [&](const std::array<Tensor, 4>& b) {
    xt.copy_(b[0]);
    yt.copy_(b[1]);
    xv.copy_(b[2]);
    yv.copy_(b[3]);
  };
  load(batches[0]);
  cuda::Graph graph;
  graph.capture(step, 1);  // one eager warm-up step on batch 0, then recording only
  for (int i = 0; i < 3; ++i) {
    const SearchStepResult r =
        darts_search_step(*eager.net, *eager.architect, *eager.sgd, 5.0, batches[i][0],
                          batches[i][1], batches[i][2], batches[i][3]);
    if (i == 0) continue;
    load(batches[i]);
    graph.replay();
    EXPECT_NEAR(train_loss.item(), r.train_loss.item(), 1e-10 * std::abs(r.train_loss.item()))
        << "replay " << i;
  }
  testing::expect_sides_match(graphed, eager, 1e-10);
}

INSTANTIATE_TEST_SUITE_P(Order, DartsCapture, ::testing::Values(1, 2),
                         [](const auto& info) { return "Order" + std::to_string(info.param); });

INSTANTIATE_TEST_SUITE_P(Order, DartsGpu,
                         ::testing::Values(Case{1, DType::Float32}, Case{1, DType::Float64},
                                           Case{2, DType::Float64}),
                         [](const auto& info) {
                           return "Order" + std::to_string(info.param.order) +
                                  (info.param.dtype == DType::Float64 ? "F64" : "F32");
                         });

}  // namespace
}  // namespace fusenas::nas
