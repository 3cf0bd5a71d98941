// The language-model training run behind train_lm()/resume_lm(): corpus, model, optimizer (SGD,
// then ASGD after NT-ASGD's switch), the epoch's window plan, the hidden state carried across
// windows, and everything else a checkpoint captures.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "fusenas/engine/data/text_corpus.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/rnn/lm_step.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/graphed_step.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/train/lm_trainer.h"

namespace fusenas::nas {

int64_t count_parameters(const nn::Module& m);

class LmTrainer : private RunBody {
 public:
  // `config` must be resolved and valid. Reads the corpus, builds the model and the optimizer.
  LmTrainer(const LmTrainConfig& config, const RunOptions& options, const std::string& run_dir);
  void restore();
  LmTrainResult run();

 private:
  void begin_phase(size_t phase) override;
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override;

  void use_plan(int epoch);
  // Mean loss per predicted token of a batchified split, fixed windows of bptt, in eval mode,
  // with the averaged weights once ASGD runs. Aborted (nullopt) when `stopping` says so.
  std::optional<double> evaluate(const Tensor& batched, const std::function<bool()>& stopping,
                                 const std::string& label);
  void switch_to_asgd();
  // One SGD window replayed from a CUDA graph (captured on its length's second window); the masks
  // are drawn outside the graph and copied in, the lr is the optimizer's device scalar.
  rnn::LmStepResult graphed_step(const Tensor& inputs, const Tensor& targets, double lr);
  LmTrainResult result() const;

  LmTrainConfig config_;
  RunOptions options_;
  Device device_;
  data::TextCorpus corpus_;  // loads before the run folder exists
  RunDir run_;
  RunLog log_;

  Tensor train_, valid_, test_;  // batchified, on the CPU
  std::shared_ptr<rnn::RecurrentLm> model_;
  std::vector<Tensor> params_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  bool asgd_ = false;
  // CUDA without options.eager, until NT-ASGD switches (ASGD computes its step sizes on the host).
  std::unique_ptr<GraphedStep> graphs_;
  int64_t graph_replays_ = 0, graph_captures_ = 0;  // of graphs_ and the graphs it had before
  Generator drop_gen_;
  rnn::LmDropout dropout_;
  rnn::LmState state_;  // carried across the epoch's windows
  std::unique_ptr<EpochRunner> runner_;
  std::vector<rnn::LmWindow> plan_;
  int planned_epoch_ = -1;

  std::vector<double> sgd_history_;  // validation losses of the SGD epochs
  double best_valid_ = 0;            // of the weights in best.safetensors; 0 before the first
  double last_valid_ = 0;
  double test_loss_ = 0;
};

}  // namespace fusenas::nas
