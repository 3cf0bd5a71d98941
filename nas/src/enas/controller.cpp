// The ENAS LSTM controller: micro and macro decoding, shared by sampling and replay, built from
// differentiable engine ops so autograd gives the policy gradient.
#include "fusenas/nas/enas/controller.h"

#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "policy/decision_log.h"

namespace fusenas::nas::enas {
namespace {

// ENAS's logit squashing: c * tanh(x / T), a zero T or c meaning that part is not applied.
// Bounding the logits keeps the policy from collapsing early; a temperature flattens it further.
struct Squash {
  double temperature = 0;
  double tanh_constant = 0;

  Tensor operator()(Tensor x) const {
    if (temperature > 0) x = scale(x, 1.0 / temperature);
    if (tanh_constant > 0) x = scale(tanh(x), tanh_constant);
    return x;
  }
};

// The squash of the input/skip logits and of the op logits (tanh_constant / op_tanh_reduce).
Squash choice_squash(const ControllerConfig& c) {
  return {c.temperature.value_or(0), c.tanh_constant.value_or(0)};
}
Squash op_squash(const ControllerConfig& c) {
  return {c.temperature.value_or(0), c.tanh_constant.value_or(0) / c.op_tanh_reduce};
}

}  // namespace

// Makes each decision, by drawing from the generator or by taking the forced value, and collects
// the log-probability and entropy terms of every decision.
class Controller::Decider : public policy::DecisionLog {
 public:
  using DecisionLog::DecisionLog;
};

ControllerConfig ControllerConfig::micro() {
  return ControllerConfig{};
}

ControllerConfig ControllerConfig::macro() {
  ControllerConfig c;
  c.space = SearchSpace::kMacro;
  c.temperature = std::nullopt;
  c.tanh_constant = 1.5;
  c.op_tanh_reduce = 1.0;
  c.enas_op_prior = false;  // ENAS's macro controller has no op prior
  return c;
}

void ControllerConfig::validate() const {
  FUSENAS_CHECK(hidden_size > 0, "ENAS controller: hidden_size must be positive, got {}",
                hidden_size);
  FUSENAS_CHECK(num_nodes > 0, "ENAS controller: num_nodes must be positive, got {}", num_nodes);
  FUSENAS_CHECK(num_layers > 0, "ENAS controller: num_layers must be positive, got {}", num_layers);
  FUSENAS_CHECK(!temperature || *temperature > 0,
                "ENAS controller: temperature must be positive, got {}", temperature.value_or(0));
  FUSENAS_CHECK(!tanh_constant || *tanh_constant > 0,
                "ENAS controller: tanh_constant must be positive, got {}",
                tanh_constant.value_or(0));
  FUSENAS_CHECK(op_tanh_reduce > 0, "ENAS controller: op_tanh_reduce must be positive, got {}",
                op_tanh_reduce);
  FUSENAS_CHECK(skip_target > 0 && skip_target < 1,
                "ENAS controller: skip_target must lie in (0, 1), got {}", skip_target);
  FUSENAS_CHECK(init_range >= 0, "ENAS controller: init_range must not be negative, got {}",
                init_range);
  FUSENAS_CHECK(!enas_op_prior || space == SearchSpace::kMicro,
                "ENAS controller: enas_op_prior applies to the micro space only");
}

const MicroArch& Sample::micro() const {
  const auto* a = std::get_if<MicroArch>(&arch);
  FUSENAS_CHECK(a, "ENAS sample: holds a macro architecture, not a micro one");
  return *a;
}

const MacroArch& Sample::macro() const {
  const auto* a = std::get_if<MacroArch>(&arch);
  FUSENAS_CHECK(a, "ENAS sample: holds a micro architecture, not a macro one");
  return *a;
}

Controller::Controller(const ControllerConfig& config, Generator& init_gen) : config_(config) {
  config_.validate();
  const int64_t h = config_.hidden_size;
  const int64_t ops = config_.space == SearchSpace::kMicro ? kNumMicroOps : kNumMacroOps;
  // ENAS's LSTM has no bias.
  lstm = register_module("lstm", std::make_shared<nn::LSTMCell>(h, h, init_gen, false));
  g_emb = register_parameter("g_emb", Tensor::empty({1, h}));
  op_emb = register_module("op_emb", std::make_shared<nn::Embedding>(ops, h, init_gen));
  // As in ENAS, the micro op softmax has a bias and the macro one has none.
  op_logits = register_module(
      "op_logits",
      std::make_shared<nn::Linear>(h, ops, init_gen, config_.space == SearchSpace::kMicro));
  attn_key = register_module("attn_key", std::make_shared<nn::Linear>(h, h, init_gen, false));
  attn_query = register_module("attn_query", std::make_shared<nn::Linear>(h, h, init_gen, false));
  attn_v = register_module("attn_v", std::make_shared<nn::Linear>(h, 1, init_gen, false));
  for (const Tensor& p : parameters()) {
    nn::init::uniform_(p, -config_.init_range, config_.init_range, init_gen);
  }
  if (config_.enas_op_prior) {
    op_logits->bias.copy_(from_vector<double>({10, 10, 0, 0, 0}, {kNumMicroOps}));
  }
}

void Controller::check_space(SearchSpace space, const char* what) const {
  FUSENAS_CHECK(config_.space == space, "ENAS controller: {} called on a {} controller", what,
                config_.space == SearchSpace::kMicro ? "micro" : "macro");
}

Sample Controller::sample_micro(Generator& gen) {
  check_space(SearchSpace::kMicro, "sample_micro");
  Decider d(&gen);
  return run_micro(d, nullptr);
}

Sample Controller::sample_macro(Generator& gen) {
  check_space(SearchSpace::kMacro, "sample_macro");
  Decider d(&gen);
  return run_macro(d, nullptr);
}

Sample Controller::evaluate_micro(const MicroArch& arch) {
  check_space(SearchSpace::kMicro, "evaluate_micro");
  arch.validate();
  FUSENAS_CHECK(arch.num_nodes() == config_.num_nodes,
                "ENAS controller: the arch has {} nodes per cell, the controller samples {}",
                arch.num_nodes(), config_.num_nodes);
  Decider d(nullptr);
  return run_micro(d, &arch);
}

Sample Controller::evaluate_macro(const MacroArch& arch) {
  check_space(SearchSpace::kMacro, "evaluate_macro");
  arch.validate();
  FUSENAS_CHECK(arch.num_layers() == config_.num_layers,
                "ENAS controller: the arch has {} layers, the controller samples {}",
                arch.num_layers(), config_.num_layers);
  Decider d(nullptr);
  return run_macro(d, &arch);
}

Sample Controller::sample(Generator& gen) {
  return config_.space == SearchSpace::kMicro ? sample_micro(gen) : sample_macro(gen);
}

Sample Controller::evaluate(const Sample& s) {
  if (const auto* micro = std::get_if<MicroArch>(&s.arch)) return evaluate_micro(*micro);
  return evaluate_macro(std::get<MacroArch>(s.arch));
}

Sample Controller::run_micro(Decider& d, const MicroArch* forced) {
  const TensorOptions options = g_emb.options();
  const int64_t h = config_.hidden_size;
  const Squash squash_choice = choice_squash(config_), squash_op = op_squash(config_);
  // The cell inputs are not LSTM outputs; choosing one feeds zeros to the next step, as in ENAS.
  const Tensor zero_input = zeros({1, h}, options);
  const Tensor prior =
      config_.enas_op_prior
          ? from_vector<double>({0.25, 0.25, -0.25, -0.25, -0.25}, {1, kNumMicroOps}, options)
          : Tensor();

  nn::LSTMState state = lstm->zero_state(1);
  MicroArch arch;
  for (int c = 0; c < 2; ++c) {
    const bool normal = c == 0;
    MicroCell& cell = normal ? arch.normal : arch.reduce;
    const MicroCell* want = forced ? (normal ? &forced->normal : &forced->reduce) : nullptr;
    std::vector<Tensor> inputs;  // what choosing state j feeds the LSTM
    std::vector<Tensor> keys;    // W1 h_j, the attention keys of the states so far
    Tensor x = g_emb;
    for (int j = 0; j < 2; ++j) {
      state = lstm->forward(x, state);
      inputs.push_back(zero_input);
      keys.push_back(attn_key->forward(state.h));
    }
    for (int k = 0; k < config_.num_nodes; ++k) {
      const int n = 2 + k;
      int chosen_input[2];
      for (int i = 0; i < 2; ++i) {
        state = lstm->forward(x, state);
        // score_j = v^T tanh(W1 h_j + W2 h), over every state so far.
        const Tensor scores =
            attn_v->forward(tanh(add(concat(keys, 0), attn_query->forward(state.h))))
                .reshape({1, n});
        const int f = want ? (i == 0 ? (*want)[k].input_a : (*want)[k].input_b) : -1;
        chosen_input[i] = d.categorical(squash_choice(scores), f, "input");
        x = inputs[chosen_input[i]];
      }
      MicroOp chosen_op[2];
      for (int i = 0; i < 2; ++i) {
        state = lstm->forward(x, state);
        Tensor logits = squash_op(op_logits->forward(state.h));
        if (normal && prior.defined()) logits = add(logits, prior);
        const int f = want ? static_cast<int>(i == 0 ? (*want)[k].op_a : (*want)[k].op_b) : -1;
        const int op = d.categorical(logits, f, "op");
        chosen_op[i] = static_cast<MicroOp>(op);
        x = op_emb->weight.narrow(0, op, 1);
      }
      state = lstm->forward(x, state);
      inputs.push_back(state.h);
      keys.push_back(attn_key->forward(state.h));
      x = g_emb;
      cell.push_back({chosen_input[0], chosen_op[0], chosen_input[1], chosen_op[1]});
    }
  }
  Sample s;
  s.arch = std::move(arch);
  s.log_prob = d.log_prob(options);
  s.entropy = d.entropy(options);
  return s;
}

Sample Controller::run_macro(Decider& d, const MacroArch* forced) {
  const TensorOptions options = g_emb.options();
  const int64_t h = config_.hidden_size;
  const Squash squash_choice = choice_squash(config_), squash_op = op_squash(config_);
  const Tensor log_target = from_vector<double>(
      {std::log(1.0 - config_.skip_target), std::log(config_.skip_target)}, {1, 2}, options);

  nn::LSTMState state = lstm->zero_state(1);
  MacroArch arch;
  std::vector<Tensor> anchors, keys, kls;
  int skip_count = 0;
  Tensor x = g_emb;
  for (int l = 0; l < config_.num_layers; ++l) {
    const MacroLayer* want = forced ? &forced->layers[l] : nullptr;
    MacroLayer layer;
    state = lstm->forward(x, state);
    const Tensor logits = squash_op(op_logits->forward(state.h));
    const int op = d.categorical(logits, want ? static_cast<int>(want->op) : -1, "op");
    layer.op = static_cast<MacroOp>(op);
    x = op_emb->weight.narrow(0, op, 1);

    state = lstm->forward(x, state);
    if (l > 0) {
      // Per earlier layer j a two-way softmax over [-s_j, s_j], s_j = squash(v^T tanh(W1 h_j +
      // W2 h)): ENAS's skip distribution, P(skip) = sigmoid(2 s_j).
      const Tensor s =
          squash_choice(attn_v->forward(tanh(add(concat(keys, 0), attn_query->forward(state.h)))));
      Tensor log_p;
      layer.skips = d.bernoulli(concat({neg(s), s}, 1), want ? &want->skips : nullptr, log_p);
      // KL(q || target) with q = [sigmoid(-s_j), sigmoid(s_j)], as ENAS computes it: of sigmoid
      // of the squashed logits, not of the sampled probability sigmoid(2 s_j). The penalty then
      // balances at a lower skip rate than the target (about 0.31 for a target of 0.4).
      const Tensor q = sigmoid(concat({neg(s), s}, 1));
      kls.push_back(sum(mul(q, sub(log(q), log_target))).reshape({1}));
      std::vector<Tensor> chosen;
      for (int j = 0; j < l; ++j) {
        if (layer.skips[j]) chosen.push_back(anchors[j]);
      }
      skip_count += static_cast<int>(chosen.size());
      // The next input is the mean of the chosen layers' hidden states (and of one zero vector).
      x = chosen.empty() ? zeros({1, h}, options)
                         : scale(sum(concat(chosen, 0), {0}, true),
                                 1.0 / (1.0 + static_cast<double>(chosen.size())));
    } else {
      x = g_emb;
    }
    anchors.push_back(state.h);
    keys.push_back(attn_key->forward(state.h));
    arch.layers.push_back(std::move(layer));
  }
  Sample out;
  out.arch = std::move(arch);
  out.log_prob = d.log_prob(options);
  out.entropy = d.entropy(options);
  out.skip_penalty = kls.empty() ? zeros({}, options) : mean(concat(kls, 0));
  out.skip_count = skip_count;
  return out;
}

}  // namespace fusenas::nas::enas
