// A SearchCell with fixed random inputs, run fused or composed on the CPU or on CUDA, and the
// comparison of two runs (output, every gradient, running statistics): the fused cell's tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::testing {

struct CellCase {
  std::vector<std::string> ops;
  int nodes = 4;
  bool reduction = false, reduction_prev = false;
  int64_t batch = 2, size = 8, c = 4, c_pp = 6, c_p = 5;
};

std::string name_of(const CellCase& k);

// What one forward and backward of a cell produced, on the CPU.
struct Outcome {
  Tensor out, gs0, gs1, galpha;
  std::map<std::string, Tensor> grads;    // by parameter name; undefined: no gradient
  std::map<std::string, Tensor> buffers;  // running statistics after the forward
};

// Two harnesses made with the same case, dtype and seed hold the same weights and inputs,
// whatever their devices.
class CellHarness {
 public:
  CellHarness(const CellCase& k, DType dtype, uint64_t seed, Device device = Device::cpu());

  nas::SearchCell& cell() { return *cell_; }

  // Gives every batch norm distinct running statistics (means in [-0.5, 0.5], variances in
  // [0.5, 1.5]) that each run then starts from, the same for every harness.
  void distinct_running_statistics();

  // One forward (relaxation, or `choice` when given) and backward of sum(out * probe), from the
  // running statistics the harness started with.
  Outcome run(bool fused, bool training, const nas::CellChoice* choice = nullptr,
              bool weights_need_grad = true, bool inputs_need_grad = true);

  // The relaxation's output in evaluation mode with gradients off (as a search evaluates), on
  // the CPU.
  Tensor evaluate(bool fused);

 private:
  Device device_;
  Generator gen_;
  std::shared_ptr<nas::SearchCell> cell_;
  Tensor s0_, s1_, alpha_, probe_;
  std::map<std::string, Tensor> initial_buffers_;
};

// Every tensor of `actual` within `tol` (max relative error) of `expected`.
void expect_same(const Outcome& actual, const Outcome& expected, double tol,
                 const std::string& what);

// The full DARTS op set in the four cell geometries (normal or reduction, after a normal or a
// reduction cell).
const std::vector<CellCase>& geometry_cases();

}  // namespace fusenas::testing
