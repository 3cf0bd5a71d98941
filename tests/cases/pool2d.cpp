// max_pool2d, avg_pool2d (both counting modes) and global_avg_pool cases, including permuted
// (strided) inputs; the DARTS 3x3 pools for bench.
#include <fmt/format.h>

#include "bench_shapes.h"
#include "fusenas/engine/ops.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

struct Window {
  int64_t kernel, stride, padding;
  std::string str() const { return fmt::format("k{} s{} p{}", kernel, stride, padding); }
};

double pooled(const Shape& x, const Window& w) {
  const double oh = (x[1] + 2 * w.padding - w.kernel) / w.stride + 1;
  const double ow = (x[2] + 2 * w.padding - w.kernel) / w.stride + 1;
  return x[0] * oh * ow * x[3];
}

OpCase max_pool(const Shape& x, const Window& w, unsigned checks, const std::string& suffix = "") {
  OpCase c;
  c.op = "max_pool2d";
  c.name = shape_str(x) + " " + w.str() + suffix;
  c.inputs = {Input{x}};
  c.run = [w](const std::vector<Tensor>& v) {
    return std::vector{max_pool2d(v[0], w.kernel, w.stride, w.padding)};
  };
  c.checks = checks;
  c.params = {{"kernel", w.kernel}, {"stride", w.stride}, {"padding", w.padding}};
  const double xe = double(numel_of(x)), ye = pooled(x, w);
  c.cost = {xe + ye, xe + ye + ye + xe, 0};  // backward: x, y and gy read, gx written
  return c;
}

OpCase avg_pool(const Shape& x, const Window& w, bool include_pad, unsigned checks,
                const std::string& suffix = "") {
  OpCase c;
  c.op = "avg_pool2d";
  c.name = shape_str(x) + " " + w.str() + (include_pad ? " include_pad" : "") + suffix;
  c.inputs = {Input{x}};
  c.run = [w, include_pad](const std::vector<Tensor>& v) {
    return std::vector{avg_pool2d(v[0], w.kernel, w.stride, w.padding, include_pad)};
  };
  c.checks = checks;
  c.params = {{"kernel", w.kernel},
              {"stride", w.stride},
              {"padding", w.padding},
              {"count_include_pad", include_pad}};
  const double xe = double(numel_of(x)), ye = pooled(x, w);
  c.cost = {xe + ye, ye + xe, 0};
  return c;
}

OpCase global_pool(const Shape& x, unsigned checks) {
  OpCase c;
  c.op = "global_avg_pool";
  c.name = shape_str(x);
  c.inputs = {Input{x}};
  c.run = [](const std::vector<Tensor>& v) { return std::vector{global_avg_pool(v[0])}; };
  c.checks = checks;
  return c;
}

// A [N, C, H, W] tensor seen as NHWC through permute: the ops must not assume contiguous input.
OpCase permuted(OpCase c, const Shape& nchw) {
  const size_t window = c.name.find("] ");  // what follows the NHWC shape, if anything
  c.name = "permuted " + shape_str(nchw) +
           (window == std::string::npos ? "" : c.name.substr(window + 1));
  c.inputs = {Input{nchw}};
  c.run = [run = c.run](const std::vector<Tensor>& v) { return run({v[0].permute({0, 2, 3, 1})}); };
  return c;
}

// DARTS-like shapes and windows for the comparison with PyTorch.
std::vector<std::pair<Shape, Window>> parity_windows() {
  return {{{4, 8, 8, 16}, {3, 1, 1}},  {{8, 16, 16, 8}, {3, 2, 1}}, {{6, 15, 15, 32}, {3, 2, 1}},
          {{5, 9, 11, 24}, {3, 1, 1}}, {{8, 8, 8, 16}, {5, 3, 0}},  {{4, 14, 14, 12}, {5, 3, 0}},
          {{4, 10, 10, 20}, {2, 2, 0}}};
}

// The windows CUDA is checked on, on a [3, 11, 12, 20] input.
const std::vector<Window> kGpuWindows = {{3, 1, 1}, {3, 2, 1}, {5, 3, 0}, {2, 2, 0}};

}  // namespace

std::vector<OpCase> max_pool2d_cases() {
  std::vector<OpCase> cases;
  for (const Window& w : {Window{3, 1, 1}, Window{3, 2, 1}, Window{2, 2, 0}}) {
    cases.push_back(max_pool({2, 7, 6, 3}, w, kGradcheck));
  }
  // One image and 40 channels: with several threads the CPU backward splits the channels.
  cases.push_back(max_pool({1, 5, 5, 40}, {3, 1, 1}, kGradcheck));
  cases.push_back(permuted(max_pool({2, 5, 5, 20}, {3, 2, 1}, kGradcheck), {2, 20, 5, 5}));
  for (const Window& w : kGpuWindows) {
    cases.push_back(max_pool({3, 11, 12, 20}, w, kGpu));
  }
  cases.push_back(permuted(max_pool({2, 7, 6, 8}, {3, 2, 1}, kGpu), {2, 8, 7, 6}));
  for (const auto& [x, w] : parity_windows()) {
    cases.push_back(max_pool(x, w, kParity));
  }
  for (const BenchShape& a : bench_shapes()) {
    for (int64_t stride : {1, 2}) {
      const unsigned checks = bench_checks(a, stride == 1);
      if (checks == 0) continue;
      cases.push_back(max_pool({a.n, a.hw, a.hw, a.c}, {3, stride, 1}, checks));
      cases.back().name = fmt::format("3x3 s{} {}", stride, a.tag());
    }
  }
  return cases;
}

std::vector<OpCase> avg_pool2d_cases() {
  std::vector<OpCase> cases;
  for (const bool include_pad : {false, true}) {
    for (const Window& w : {Window{3, 1, 1}, Window{3, 2, 1}}) {
      cases.push_back(avg_pool({2, 7, 6, 3}, w, include_pad, kGradcheck));
    }
    cases.push_back(avg_pool({2, 8, 8, 3}, {5, 3, 0}, include_pad, kGradcheck));
    for (const Window& w : kGpuWindows) {
      cases.push_back(avg_pool({3, 11, 12, 20}, w, include_pad, kGpu));
    }
  }
  cases.push_back(avg_pool({1, 5, 5, 40}, {3, 2, 1}, false, kGradcheck));
  cases.push_back(permuted(avg_pool({2, 5, 5, 20}, {3, 1, 1}, false, kGradcheck), {2, 20, 5, 5}));
  for (const auto& [x, w] : parity_windows()) {
    for (const bool include_pad : {false, true}) {
      cases.push_back(avg_pool(x, w, include_pad, kParity));
    }
  }
  // DARTS' avg_pool_3x3 does not count the padding.
  for (const BenchShape& a : bench_shapes()) {
    for (int64_t stride : {1, 2}) {
      const unsigned checks = bench_checks(a, stride == 1);
      if (checks == 0) continue;
      cases.push_back(avg_pool({a.n, a.hw, a.hw, a.c}, {3, stride, 1}, false, checks));
      cases.back().name = fmt::format("3x3 s{} {}", stride, a.tag());
    }
  }
  return cases;
}

std::vector<OpCase> global_avg_pool_cases() {
  std::vector<OpCase> cases;
  cases.push_back(global_pool({3, 4, 5, 6}, kGradcheck));
  cases.push_back(permuted(global_pool({2, 5, 5, 20}, kGradcheck), {2, 20, 5, 5}));
  for (const Shape& s : std::vector<Shape>{{2, 7, 7, 40}, {16, 1, 1, 3}, {3, 32, 32, 70}}) {
    cases.push_back(global_pool(s, kGpu));
  }
  for (const Shape& s : std::vector<Shape>{{8, 8, 8, 32}, {4, 16, 16, 16}, {6, 7, 9, 10}}) {
    cases.push_back(global_pool(s, kParity));
  }
  return cases;
}

}  // namespace fusenas::cases
