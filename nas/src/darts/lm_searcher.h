// The recurrent-cell search run behind search_lm()/resume_lm_search(): the corpus's splits, the
// LM over DARTS's search cell, its alphas with their Adam, the weights' SGD, the two hidden
// states (training and architect windows) carried across windows, and the epoch's window plan.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "fusenas/engine/data/text_corpus.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/darts/lm_search.h"
#include "fusenas/nas/rnn/lm_step.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "fusenas/nas/run/epoch_runner.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/run/run_log.h"

namespace fusenas::nas {

class LmSearcher : private RunBody {
 public:
  LmSearcher(const LmSearchConfig& config, const RunOptions& options, const std::string& run_dir);
  void restore();
  LmSearchResult run();

 private:
  void begin_phase(size_t phase) override;
  int64_t run_step(size_t phase) override;
  std::string progress_text(size_t phase) const override;
  bool end_epoch(const std::function<bool()>& stopping) override;
  void save_checkpoint() const override;

  void use_plan(int epoch);
  // The architect's window: rows from (train start mod (rows - 1)) of the search split, bptt
  // long or up to its end, as train_search.py's get_batch(search_data, i % (n - 1)).
  std::pair<Tensor, Tensor> search_window(int64_t train_start) const;
  // First order: d L_val / d alpha at the current weights. Second order (DARTS rnn/architect.py):
  // through one unrolled SGD step of the weights (gradients clipped, weight decay in), with the
  // Hessian-vector product by finite differences around the unrolled weights. Leaves the
  // gradient in the alphas' .grad, the weights as they were; returns L_val.
  Tensor alpha_gradient(const Tensor& x_train, const Tensor& y_train, const Tensor& x_val,
                        const Tensor& y_val, double eta);
  rnn::RecurrentGenotype genotype() const;
  LmSearchResult result() const;

  LmSearchConfig config_;
  RunOptions options_;
  Device device_;
  data::TextCorpus corpus_;
  RunDir run_;
  RunLog log_;

  Tensor train_, search_, valid_;  // batchified, on the CPU
  std::shared_ptr<rnn::DartsRecurrentSearchCell> cell_;
  std::shared_ptr<rnn::RecurrentLm> model_;
  Tensor alphas_;
  std::vector<Tensor> params_;
  std::unique_ptr<optim::SGD> optimizer_;
  std::unique_ptr<optim::Adam> arch_optimizer_;
  Generator drop_gen_;
  rnn::LmDropout dropout_;
  rnn::LmState state_, search_state_;
  std::unique_ptr<EpochRunner> runner_;
  std::vector<rnn::LmWindow> plan_;
  int planned_epoch_ = -1;
  double last_valid_ = 0;
};

}  // namespace fusenas::nas
