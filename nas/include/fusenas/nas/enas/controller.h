// ENAS controller: the LSTM policy that samples micro or macro architectures decision by
// decision, and replays a given architecture to score it (log-probability, entropy, skip penalty).
#pragma once

#include <memory>
#include <optional>
#include <variant>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/embedding.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/enas/arch.h"

namespace fusenas::nas::enas {

enum class SearchSpace { kMicro, kMacro };

struct ControllerConfig {
  SearchSpace space = SearchSpace::kMicro;
  int64_t hidden_size = 64;  // one LSTM layer
  int num_nodes = 5;         // micro: nodes per cell (B)
  int num_layers = 12;       // macro: layers (L)
  // Every logit becomes tanh_constant * tanh(logit / temperature); either part is skipped when
  // unset. Op logits use tanh_constant / op_tanh_reduce instead. ENAS's CIFAR-10 scripts set no
  // temperature (main.py's default is None); the 5.0 of its code belongs to the PTB search.
  std::optional<double> temperature;
  std::optional<double> tanh_constant = 1.10;
  double op_tanh_reduce = 2.5;
  double skip_target = 0.4;  // macro: the skip probability the KL penalty pulls toward
  double init_range = 0.1;   // every parameter starts U(-init_range, init_range), as in ENAS
  // ENAS's code (not the paper) biases the normal cell toward the sep convs: the op bias starts at
  // [10, 10, 0, 0, 0] and a fixed [0.25, 0.25, -0.25, -0.25, -0.25] is added to the normal
  // cell's scaled op logits. With the tanh bound the prior stays for the whole search. On for the
  // micro space, as in the reference code; macro() turns it off.
  bool enas_op_prior = true;

  // ENAS's micro search settings (scripts/cifar10_micro_search.sh): tanh 1.10 for inputs, op
  // logits 1.10 / 2.5 = 0.44. Note the bound this puts on a policy: an op is chosen with
  // probability at most e^0.44 / (e^0.44 + 4 e^-0.44) = 0.376.
  static ControllerConfig micro();
  // ENAS's macro search settings: tanh 1.5 for ops and skips alike (ENAS's macro controller
  // ignores op_tanh_reduce).
  static ControllerConfig macro();
  // Throws fusenas::Error for a non-positive size/count/temperature, a skip target outside (0, 1)
  // or an op prior on a macro controller.
  void validate() const;
};

// One architecture with the controller's scores for it. The tensors are 0-d, on the controller's
// dtype, and carry autograd history back to the controller's parameters.
struct Sample {
  std::variant<MicroArch, MacroArch> arch;
  Tensor log_prob;  // sum of the log-probabilities of every decision
  // Sum of the entropies of every decision's distribution, as ENAS's micro controller computes it
  // (its macro controller sums -p log p of the chosen value only, which we do not copy).
  Tensor entropy;
  // Macro only (undefined for micro): the mean over layers 1..L-1 of
  // sum_j KL(Bernoulli(p_skip_j) || Bernoulli(skip_target)), as ENAS penalises skip density.
  Tensor skip_penalty;
  int skip_count = 0;  // macro only

  // Throw fusenas::Error when the sample is of the other space.
  const MicroArch& micro() const;
  const MacroArch& macro() const;
};

// Decision order, per micro cell (normal, then reduce continuing the same LSTM state): two steps
// over the cell inputs, then per node input_a, input_b (attention over the states so far), op_a,
// op_b, and one step that produces the node's hidden state. Per macro layer: the op, then (from
// layer 1) one Bernoulli skip decision per earlier layer. This follows ENAS's samplers.
class Controller : public nn::Module {
 public:
  // Parameters are drawn from `init_gen` (an explicit generator keeps runs reproducible).
  Controller(const ControllerConfig& config, Generator& init_gen);

  std::string type_name() const override { return "EnasController"; }
  using Module::forward;  // the controller has no single-tensor forward
  const ControllerConfig& config() const { return config_; }

  // Draws an architecture (one uniform number per decision from `gen`).
  Sample sample_micro(Generator& gen);
  Sample sample_macro(Generator& gen);
  // Scores a fixed architecture: the same computation as sampling with every choice forced.
  // Throws fusenas::Error when the arch is invalid or its size differs from the config.
  Sample evaluate_micro(const MicroArch& arch);
  Sample evaluate_macro(const MacroArch& arch);
  // Dispatch on config().space (sample) or on the sample's own space (evaluate).
  Sample sample(Generator& gen);
  Sample evaluate(const Sample& sample);

  std::shared_ptr<nn::LSTMCell> lstm;
  Tensor g_emb;                            // [1, H] start token
  std::shared_ptr<nn::Embedding> op_emb;   // [num ops, H]
  std::shared_ptr<nn::Linear> op_logits;   // H -> num ops (with a bias in the micro space only)
  std::shared_ptr<nn::Linear> attn_key;    // W1: H -> H, applied to earlier hidden states
  std::shared_ptr<nn::Linear> attn_query;  // W2: H -> H, applied to the current hidden state
  std::shared_ptr<nn::Linear> attn_v;      // v: H -> 1

 private:
  class Decider;
  Sample run_micro(Decider& decider, const MicroArch* forced);
  Sample run_macro(Decider& decider, const MacroArch* forced);
  void check_space(SearchSpace space, const char* what) const;

  ControllerConfig config_;
};

}  // namespace fusenas::nas::enas
