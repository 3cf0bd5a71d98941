// OpCase: one case of one op (its inputs, the call, and which checks use it). Every op with a
// table lists all its cases in tests/cases/<op file>.cpp, and the same table feeds the gradient
// check by finite differences, the PyTorch parity check, the CUDA-versus-CPU check and bench
// (ggml's test-backend-ops is the model).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas::cases {

// Which checks run a case (bit flags).
enum Check : unsigned {
  kGradcheck = 1u << 0,  // float64 finite differences on the CPU (small shapes)
  kParity = 1u << 1,     // against PyTorch (CPU), forward and backward
  kGpu = 1u << 2,        // CUDA against the CPU, float32 and float64, poisoned allocations
  kBench = 1u << 3,      // timed by bench (forward, and forward + backward)
  kQuick = 1u << 4,      // also in bench --quick
};

// One input, drawn afresh for each check from a seed.
struct Input {
  Shape shape;
  double low = -1.0, high = 1.0;  // uniform floats in [low, high)
  bool grad = true;               // differentiated (floating inputs only)
  int64_t classes = 0;            // > 0: int64 labels (or indices) in [0, classes) instead
  bool absent = false;            // an optional input left undefined

  static Input labels(Shape shape, int64_t classes);
  static Input constant(Shape shape, double low = -1.0, double high = 1.0);
  static Input none();
};

using OpFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// bench's model of one call, in tensor elements read or written (each tensor once).
struct Cost {
  double fwd_elements = 0, bwd_elements = 0;
  double fwd_flops = 0;  // 2 x multiply-adds, for MAC-bound ops; a backward counts twice more
};

struct OpCase {
  std::string op;    // the op's one name (engine, oracle and peers use it too)
  std::string name;  // this case, unique within the op
  std::vector<Input> inputs;
  OpFn run;  // the outputs; the first is differentiated, the others are compared as values
  unsigned checks = 0;
  nlohmann::json params = nlohmann::json::object();  // the torch side's parameters
  double tolerance = 1e-5;                           // max relative error (parity, CUDA vs CPU)
  double gradcheck_tolerance = 1e-6;
  Cost cost;

  std::string label() const { return op + " " + name; }
  // Fresh inputs (CPU, floats in `dtype`) for this case; the seed comes from the label.
  std::vector<Tensor> make_inputs(DType dtype) const;
  // Which inputs are differentiated.
  std::vector<bool> grad_inputs() const;
  // What a PyTorch peer needs to rebuild the case: op, params, input shapes and kinds.
  nlohmann::json torch_spec() const;
};

// Every op that has a table, in a fixed order.
const std::vector<std::string>& op_names();
// The ops whose tables have a case `check` runs.
std::vector<std::string> op_names_with(Check check);
// The table of `op`.
std::vector<OpCase> cases_of(const std::string& op);
// The cases of every op that `check` runs.
std::vector<OpCase> cases_with(Check check);

}  // namespace fusenas::cases
