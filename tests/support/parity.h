// ParityBatch: queue many op cases, run them here and in PyTorch (one Python process), then
// compare outputs and input gradients.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/torch_oracle.h"

namespace fusenas::testing {

// Returns the op's outputs; the first is differentiated with a random output gradient, the rest
// (e.g. updated running statistics) are compared as plain values.
using MultiFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct ParityOptions {
  double tolerance = 1e-5;
  std::vector<bool> grad_inputs;  // which inputs to differentiate; empty = every float input
};

class ParityBatch {
 public:
  // Runs `f` on `inputs` now (forward + backward), and queues the torch op `op` with `params`.
  void add(const std::string& label, const std::string& op, const nlohmann::json& params,
           std::vector<Tensor> inputs, const MultiFn& f, ParityOptions options = {});
  void add(const std::string& label, const std::string& op, const nlohmann::json& params,
           std::vector<Tensor> inputs, const std::function<Tensor(const std::vector<Tensor>&)>& f,
           ParityOptions options = {});
  // Runs torch once for every queued case and records gtest failures.
  void check();

 private:
  struct Entry {
    std::string label;
    double tolerance;
    std::vector<Tensor> outputs;
    std::vector<Tensor> grads;  // undefined where not differentiated
  };
  std::vector<Entry> entries_;
  std::vector<OracleCase> cases_;
  uint64_t seed_ = 1000;
};

// Uniform float32 tensor in [low, high) from a fresh generator seeded with `seed`.
Tensor random_float(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0);

}  // namespace fusenas::testing
