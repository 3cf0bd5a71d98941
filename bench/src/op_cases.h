// The op cases bench times: the bench entries of the shared case tables (tests/cases), each
// forward only and forward + backward, with the spec a PyTorch peer rebuilds them from.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "cases/op_case.h"
#include "fusenas/engine/device.h"
#include "harness.h"

namespace fusenas::bench {

struct TimedOp {
  cases::OpCase c;
  bool backward = false;

  std::string name() const { return c.label() + (backward ? " fwd+bwd" : " fwd"); }
  std::string shape() const { return shape_str(c.inputs[0].shape); }
  nlohmann::json spec() const;
  // The traffic and work model of one call (float32 bytes, FLOPs).
  double bytes() const;
  double flops() const;
  // The call on `inputs` (already on their device, gradients wanted where the case says):
  // forward only, or forward then backward from `gy`.
  void call(const std::vector<Tensor>& inputs, const Tensor& gy) const;
};

// The cases --quick (or the full run) times, forward then forward + backward; `filter` is a regex
// on the names (empty = all).
std::vector<TimedOp> timed_ops(bool quick, const std::string& filter);

// A random output gradient for `op` on `device` (undefined for forward-only cases).
Tensor output_gradient(const TimedOp& op, const std::vector<Tensor>& inputs, Device device);

// The case as the CPU suite's BenchCase: prepare() draws inputs on `device` and returns the call.
BenchCase bench_case(const TimedOp& op, Device device);

}  // namespace fusenas::bench
