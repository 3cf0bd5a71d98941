// The gpu tests' CUDA-versus-CPU expectation over cases::compare_cuda_with_cpu.
#include "support/gpu_compare.h"

namespace fusenas::testing {

void expect_cuda_matches_cpu(const std::string& label, const std::vector<Tensor>& inputs,
                             const OpFn& f, double tolerance, std::vector<bool> grad_inputs) {
  SCOPED_TRACE(label);
  for (const cases::Difference& d : cases::compare_cuda_with_cpu(inputs, f, grad_inputs)) {
    EXPECT_LE(d.error, tolerance) << d.what << (d.note.empty() ? "" : ": " + d.note);
  }
}

}  // namespace fusenas::testing
