// Op benchmark cases at DARTS shapes, shared by the CPU and GPU suites and by the PyTorch peer.
#include "op_cases.h"

#include <fmt/format.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas::bench {
namespace {

Tensor random(const Shape& shape, Device device, uint64_t seed, bool requires_grad) {
  Generator gen(seed);
  Tensor t = uniform(shape, -1, 1, gen).to(device);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

// Wraps an op into a timed closure: forward only, or forward plus backward from a fixed gradient.
BenchCase make_case(const std::string& name, const Shape& x_shape, nlohmann::json spec,
                    bool backward, Device device,
                    std::function<Tensor(const std::vector<Tensor>&)> op,
                    std::vector<Shape> extra_shapes = {}) {
  spec["x"] = x_shape;
  spec["mode"] = backward ? "fwdbwd" : "fwd";
  BenchCase c;
  c.name = name + (backward ? " fwd+bwd" : " fwd");
  c.shape = shape_str(x_shape);
  c.spec = spec;
  c.prepare = [=]() -> std::function<void()> {
    std::vector<Tensor> inputs{random(x_shape, device, 1, backward)};
    for (size_t i = 0; i < extra_shapes.size(); ++i) {
      inputs.push_back(random(extra_shapes[i], device, 2 + i, backward));
    }
    Tensor probe;
    {
      NoGradGuard guard;
      probe = op(inputs);
    }
    const Tensor gy = random(probe.shape(), device, 99, false);
    if (!backward) {
      return [=] {
        NoGradGuard guard;
        op(inputs);
      };
    }
    return [=] {
      for (const auto& t : inputs) t.set_grad(Tensor());
      op(inputs).backward(gy);
    };
  };
  return c;
}

}  // namespace

std::vector<BenchCase> op_cases(Device device, bool quick) {
  struct Act {
    int64_t n, hw, c;
  };
  // DARTS search shapes: batch 64 at C=16/32/64 on 32/16/8 pixels; the CPU quick preset at 28px.
  std::vector<Act> acts = {{64, 32, 16}, {64, 16, 32}, {64, 8, 64}, {32, 28, 8}};
  if (quick) acts = {{32, 16, 16}};
  std::vector<BenchCase> cases;
  for (bool backward : {false, true}) {
    for (const Act& a : acts) {
      const Shape x{a.n, a.hw, a.hw, a.c};
      const std::string at = fmt::format(" C{} {}px", a.c, a.hw);
      for (int64_t k : {3, 5}) {
        for (int64_t dil : {1, 2}) {
          for (int64_t stride : {1, 2}) {
            const int64_t pad = dil * (k / 2);
            const auto p = Conv2dParams::square(stride, pad, dil, a.c);
            cases.push_back(make_case(
                fmt::format("dwconv{}x{} d{} s{}{}", k, k, dil, stride, at), x,
                {{"op", "conv2d"},
                 {"k", k},
                 {"stride", stride},
                 {"pad", pad},
                 {"dil", dil},
                 {"groups", a.c},
                 {"out", a.c}},
                backward, device, [p](const auto& in) { return conv2d(in[0], in[1], Tensor(), p); },
                {{a.c, k, k, 1}}));
          }
        }
      }
      cases.push_back(
          make_case(fmt::format("conv1x1{}", at), x,
                    {{"op", "conv2d"},
                     {"k", 1},
                     {"stride", 1},
                     {"pad", 0},
                     {"dil", 1},
                     {"groups", 1},
                     {"out", a.c}},
                    backward, device,
                    [](const auto& in) { return conv2d(in[0], in[1], Tensor(), Conv2dParams{}); },
                    {{a.c, 1, 1, a.c}}));
      cases.push_back(make_case(
          fmt::format("conv3x3{}", at), x,
          {{"op", "conv2d"},
           {"k", 3},
           {"stride", 1},
           {"pad", 1},
           {"dil", 1},
           {"groups", 1},
           {"out", a.c}},
          backward, device,
          [](const auto& in) { return conv2d(in[0], in[1], Tensor(), Conv2dParams::square(1, 1)); },
          {{a.c, 3, 3, a.c}}));
      cases.push_back(make_case(fmt::format("batchnorm train{}", at), x, {{"op", "batch_norm"}},
                                backward, device, [](const auto& in) {
                                  return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(),
                                                    true);
                                }));
      for (int64_t stride : {1, 2}) {
        cases.push_back(
            make_case(fmt::format("maxpool3x3 s{}{}", stride, at), x,
                      {{"op", "max_pool2d"}, {"stride", stride}}, backward, device,
                      [stride](const auto& in) { return max_pool2d(in[0], 3, stride, 1); }));
        cases.push_back(
            make_case(fmt::format("avgpool3x3 s{}{}", stride, at), x,
                      {{"op", "avg_pool2d"}, {"stride", stride}}, backward, device,
                      [stride](const auto& in) { return avg_pool2d(in[0], 3, stride, 1, false); }));
      }
      cases.push_back(make_case(fmt::format("relu{}", at), x, {{"op", "relu"}}, backward, device,
                                [](const auto& in) { return relu(in[0]); }));
      cases.push_back(make_case(fmt::format("weighted_sum8{}", at), x,
                                {{"op", "weighted_sum"}, {"n", 8}}, backward, device,
                                [](const auto& in) {
                                  std::vector<Tensor> xs;
                                  for (int i = 0; i < 8; ++i) xs.push_back(in[0]);
                                  return weighted_sum(xs, in[1]);
                                },
                                {{8}}));
      if (quick) break;
    }
  }
  return cases;
}

}  // namespace fusenas::bench
