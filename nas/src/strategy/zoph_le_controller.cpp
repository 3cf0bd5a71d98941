// Zoph & Le's RNN controller: stacked-LSTM decoding of a zoph-le point, shared by sampling and
// replay, built from differentiable engine ops so autograd gives the policy gradient.
#include "fusenas/nas/strategy/zoph_le_controller.h"

#include <algorithm>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"
#include "policy/decision_log.h"

namespace fusenas::nas::strategy {
namespace {

constexpr const char* kDecisionNames[] = {"height", "width", "filters", "stride"};

// A layer's forced choices, read from a point's JSON.
struct ForcedLayer {
  int choice[4] = {0, 0, 0, 0};
  std::vector<bool> skips;
};

}  // namespace

void ZophLeControllerConfig::validate() const {
  FUSENAS_CHECK(lstm_layers > 0, "RL controller: lstm_layers must be positive, got {}",
                lstm_layers);
  FUSENAS_CHECK(hidden_size > 0, "RL controller: hidden_size must be positive, got {}",
                hidden_size);
  FUSENAS_CHECK(init_range >= 0, "RL controller: init_range must not be negative, got {}",
                init_range);
  FUSENAS_CHECK(choices.layers > 0, "RL controller: layers must be positive, got {}",
                choices.layers);
  FUSENAS_CHECK(!choices.heights.empty() && !choices.widths.empty() && !choices.filters.empty() &&
                    !choices.strides.empty(),
                "RL controller: every decision needs at least one value");
}

ZophLeController::ZophLeController(const ZophLeControllerConfig& config, Generator& init_gen)
    : config_(config) {
  config_.validate();
  const int64_t h = config_.hidden_size;
  for (int i = 0; i < config_.lstm_layers; ++i) {
    lstm.push_back(
        register_module(fmt::format("lstm{}", i), std::make_shared<nn::LSTMCell>(h, h, init_gen)));
  }
  start = register_parameter("start", Tensor::empty({1, h}));
  for (int d = 0; d < decisions_per_layer(); ++d) {
    const auto k = static_cast<int64_t>(values(d).size());
    classifiers.push_back(register_module(fmt::format("{}_logits", kDecisionNames[d]),
                                          std::make_shared<nn::Linear>(h, k, init_gen)));
    embeddings.push_back(register_module(fmt::format("{}_emb", kDecisionNames[d]),
                                         std::make_shared<nn::Embedding>(k, h, init_gen)));
  }
  attn_prev = register_module("attn_prev", std::make_shared<nn::Linear>(h, h, init_gen, false));
  attn_curr = register_module("attn_curr", std::make_shared<nn::Linear>(h, h, init_gen, false));
  attn_v = register_module("attn_v", std::make_shared<nn::Linear>(h, 1, init_gen, false));
  for (const Tensor& p : parameters()) {
    nn::init::uniform_(p, -config_.init_range, config_.init_range, init_gen);
  }
}

int ZophLeController::decisions_per_layer() const {
  return config_.choices.strides.size() > 1 ? 4 : 3;
}

const std::vector<int64_t>& ZophLeController::values(int decision) const {
  const ZophLeChoices& c = config_.choices;
  switch (decision) {
    case kHeight:
      return c.heights;
    case kWidth:
      return c.widths;
    case kFilters:
      return c.filters;
    default:
      return c.strides;
  }
}

PolicySample ZophLeController::sample(Generator& gen) {
  return run(&gen, nullptr);
}

PolicySample ZophLeController::evaluate(const space::Point& point) {
  return run(nullptr, &point);
}

PolicySample ZophLeController::run(Generator* gen, const space::Point* forced) {
  const int layers = config_.choices.layers;
  const char* keys[] = {"height", "width", "filters", "stride"};
  std::vector<ForcedLayer> want;
  if (forced) {
    FUSENAS_CHECK(
        forced->is_object() && forced->contains("layers") && (*forced)["layers"].is_array(),
        "RL controller: a point is an object with a 'layers' array");
    const auto& js = (*forced)["layers"];
    FUSENAS_CHECK(static_cast<int>(js.size()) == layers,
                  "RL controller: the point has {} layers, the controller writes {}", js.size(),
                  layers);
    for (int l = 0; l < layers; ++l) {
      ForcedLayer f;
      for (int d = 0; d < 4; ++d) {
        const std::vector<int64_t>& vals = values(d);
        const int64_t v = js[l].value(keys[d], int64_t{1});
        const auto it = std::find(vals.begin(), vals.end(), v);
        FUSENAS_CHECK(it != vals.end(), "RL controller: layer {} {} {} is not among the choices", l,
                      keys[d], v);
        f.choice[d] = static_cast<int>(it - vals.begin());
      }
      const auto& skips = js[l].value("skips", nlohmann::json::array());
      FUSENAS_CHECK(static_cast<int>(skips.size()) == l,
                    "RL controller: layer {} has {} skip bits, it needs {}", l, skips.size(), l);
      for (const auto& b : skips) f.skips.push_back(b.is_boolean() ? b.get<bool>() : b != 0);
      want.push_back(std::move(f));
    }
  }

  const TensorOptions options = start.options();
  const int64_t h = config_.hidden_size;
  policy::DecisionLog d(gen);
  std::vector<nn::LSTMState> state;
  for (const auto& cell : lstm) state.push_back(cell->zero_state(1));
  // One step of the stacked LSTM; returns the top layer's hidden state.
  const auto step = [&](Tensor x) {
    for (size_t i = 0; i < lstm.size(); ++i) {
      state[i] = lstm[i]->forward(x, state[i]);
      x = state[i].h;
    }
    return x;
  };

  nlohmann::json out_layers = nlohmann::json::array();
  std::vector<Tensor> anchors, prev_keys;
  Tensor x = start;
  for (int l = 0; l < layers; ++l) {
    nlohmann::json layer = nlohmann::json::object();
    for (int dec = 0; dec < 4; ++dec) {
      if (dec >= decisions_per_layer()) {  // a single stride value: nothing to decide
        layer[keys[dec]] = values(dec).front();
        continue;
      }
      const Tensor top = step(x);
      const int choice = d.categorical(classifiers[dec]->forward(top),
                                       forced ? want[l].choice[dec] : -1, keys[dec]);
      layer[keys[dec]] = values(dec)[choice];
      x = embeddings[dec]->weight.narrow(0, choice, 1);
    }
    const Tensor anchor = step(x);
    std::vector<bool> skips;
    if (l > 0) {
      // s_j = v^T tanh(W_prev h_j + W_curr h_l); the two-way softmax over [0, s_j] gives
      // P(connect) = sigmoid(s_j).
      const Tensor s = attn_v->forward(tanh(add(concat(prev_keys, 0), attn_curr->forward(anchor))));
      Tensor log_p;
      skips = d.bernoulli(concat({zeros_like(s), s}, 1), forced ? &want[l].skips : nullptr, log_p);
      std::vector<Tensor> chosen;
      for (int j = 0; j < l; ++j) {
        if (skips[j]) chosen.push_back(anchors[j]);
      }
      x = chosen.empty()
              ? zeros({1, h}, options)
              : scale(sum(concat(chosen, 0), {0}, true), 1.0 / static_cast<double>(chosen.size()));
    } else {
      x = start;
    }
    nlohmann::json bits = nlohmann::json::array();
    for (bool b : skips) bits.push_back(b ? 1 : 0);
    layer["skips"] = std::move(bits);
    anchors.push_back(anchor);
    prev_keys.push_back(attn_prev->forward(anchor));
    out_layers.push_back(std::move(layer));
  }
  PolicySample out;
  out.point = {{"layers", std::move(out_layers)}};
  out.log_prob = d.log_prob(options);
  out.entropy = d.entropy(options);
  return out;
}

}  // namespace fusenas::nas::strategy
