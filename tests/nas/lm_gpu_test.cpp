// A language model's training steps and evaluation on CUDA against the CPU, for every recurrent
// cell family and DARTS's search cell, in float64 from the same weights and with every dropout
// and DropConnect on: the masks come from the same Philox streams on both devices, so losses,
// weights and perplexities agree up to summation order.
#include <gtest/gtest.h>

#include <cmath>

#include "fusenas/engine/data/bptt.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/rnn/lm_step.h"
#include "support/gpu_compare.h"

namespace fusenas::nas::rnn {
namespace {

constexpr int64_t kVocab = 7, kHidden = 4, kBatch = 2, kSteps = 3;

struct Side {
  std::shared_ptr<RecurrentLm> lm;
  std::vector<Tensor> params;
  std::unique_ptr<optim::SGD> sgd;
  Tensor alphas;
};

Side make_side(const std::string& cell, Device device) {
  Generator init(17);
  RecurrentCell c =
      cell == "search"
          ? RecurrentCell(std::make_shared<DartsRecurrentSearchCell>(kHidden, kHidden, init, 3))
          : make_recurrent_cell(builtin_recurrent_arch(cell), kHidden, kHidden, init);
  Side s;
  s.lm = std::make_shared<RecurrentLm>(kVocab, c, init);
  s.lm->to(DType::Float64);
  if (cell == "search") {
    Generator a(5);
    s.alphas = normal({6, kDartsRecurrentSearchOps}, 0, 1, a).to(DType::Float64);
  }
  if (device.is_cuda()) {
    s.lm->to(device);
    if (s.alphas.defined()) s.alphas = s.alphas.to(device);
  }
  if (s.alphas.defined()) s.lm->set_alphas(s.alphas);
  s.params = s.lm->parameters();
  s.sgd = std::make_unique<optim::SGD>(s.params, 2.0, 0.0, 1e-4);
  return s;
}

class LmGpu : public ::testing::TestWithParam<std::string> {};

TEST_P(LmGpu, TrainingStepsAndEvaluationMatchCpu) {
  FUSENAS_REQUIRE_GPU();
  Side cpu = make_side(GetParam(), Device::cpu());
  Side gpu = make_side(GetParam(), Device::cuda());
  Generator data(3);
  const Tensor stream = randint({kBatch * 12}, 0, kVocab, data);
  const Tensor batched = data::batchify(stream, kBatch);
  const LmDropout dropout{
      .input = 0.2, .x = 0.3, .h = 0.25, .output = 0.3, .embedding = 0.1, .weight = 0.3};
  const LmStepOptions options{.alpha = 1e-2, .beta = 1e-2, .clip = 0.25};
  Generator gen_cpu(9), gen_gpu(9);
  LmState state_cpu = cpu.lm->zero_state(kBatch);
  LmState state_gpu = gpu.lm->zero_state(kBatch);
  for (int step = 0; step < 2; ++step) {
    const Tensor x = batched.narrow(0, step * kSteps, kSteps).contiguous();
    const Tensor y = batched.narrow(0, step * kSteps + 1, kSteps).contiguous();
    const LmStepResult a = lm_train_step(*cpu.lm, *cpu.sgd, cpu.params, x, y, state_cpu, dropout,
                                         gen_cpu, options, 2.0);
    const LmStepResult b =
        lm_train_step(*gpu.lm, *gpu.sgd, gpu.params, x.to(Device::cuda()), y.to(Device::cuda()),
                      state_gpu, dropout, gen_gpu, options, 2.0);
    EXPECT_NEAR(a.raw_loss.item(), b.raw_loss.item(), 1e-10) << "step " << step;
  }
  for (size_t i = 0; i < cpu.params.size(); ++i) {
    const std::vector<double> p = cpu.params[i].to_vector<double>();
    const std::vector<double> q = gpu.params[i].to(Device::cpu()).to_vector<double>();
    ASSERT_EQ(p.size(), q.size());
    for (size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(p[k], q[k], 1e-10) << "parameter " << i;
  }
  const auto never = [] { return false; };
  const double loss_cpu = *lm_evaluate(*cpu.lm, batched, kSteps, Device::cpu(), never, false, "");
  const double loss_gpu = *lm_evaluate(*gpu.lm, batched, kSteps, Device::cuda(), never, false, "");
  EXPECT_NEAR(loss_cpu, loss_gpu, 1e-10);
  EXPECT_TRUE(std::isfinite(loss_cpu));
}

INSTANTIATE_TEST_SUITE_P(Cells, LmGpu, ::testing::Values("DARTS_V2", "ENAS", "ZOPH_LE", "search"));

}  // namespace
}  // namespace fusenas::nas::rnn
