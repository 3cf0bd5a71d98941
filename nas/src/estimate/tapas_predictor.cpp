// TAPAS's predictor: an LSTM (or MLP) over layer features plus summary, fidelity and DCN inputs,
// trained with the engine's autograd and Adam; its save/load and its evaluation by rank agreement.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/engine/nn/linear.h"
#include "fusenas/engine/nn/lstm_cell.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/adam.h"
#include "fusenas/nas/estimate/rank_metrics.h"
#include "fusenas/nas/estimate/tapas.h"

namespace fusenas::nas::estimate::tapas {

namespace fs = std::filesystem;

nlohmann::json PredictorOptions::to_json() const {
  return {{"model", model},
          {"hidden", hidden},
          {"steps", steps},
          {"lr", lr},
          {"weight_decay", weight_decay},
          {"ensemble", ensemble},
          {"seed", seed}};
}

PredictorOptions PredictorOptions::from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object(), "predictor options must be a JSON object");
  PredictorOptions o;
  try {
    o.model = j.value("model", o.model);
    o.hidden = j.value("hidden", o.hidden);
    o.steps = j.value("steps", o.steps);
    o.lr = j.value("lr", o.lr);
    o.weight_decay = j.value("weight_decay", o.weight_decay);
    o.ensemble = j.value("ensemble", o.ensemble);
    o.seed = j.value("seed", o.seed);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("predictor options hold a value of the wrong type ({})", e.what());
  }
  o.validate();
  return o;
}

void PredictorOptions::validate() const {
  FUSENAS_CHECK(model == "lstm" || model == "mlp", "unknown predictor model '{}' (lstm or mlp)",
                model);
  FUSENAS_CHECK(hidden >= 1 && hidden <= 1024, "hidden size must lie in [1, 1024], got {}", hidden);
  FUSENAS_CHECK(steps >= 1, "training steps must be at least 1, got {}", steps);
  FUSENAS_CHECK(std::isfinite(lr) && lr > 0, "lr must be positive, got {}", lr);
  FUSENAS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
                "weight decay must be non-negative, got {}", weight_decay);
  FUSENAS_CHECK(ensemble >= 1 && ensemble <= 64, "ensemble must lie in [1, 64], got {}", ensemble);
}

Query query_of(const Example& e, const std::map<std::string, Difficulty>& datasets) {
  const auto it = datasets.find(e.dataset);
  FUSENAS_CHECK(it != datasets.end(), "no difficulty (DCN) is known for dataset '{}'", e.dataset);
  return {e.space, e.space_options, e.arch, e.dataset, e.fidelity, it->second.dcn};
}

namespace {

// One input row: the layer sequence and the per-network features.
struct Row {
  std::vector<LayerFeatures> layers;
  std::array<float, kArchFeatures + kRunFeatures> global{};
};

Row row_of(const Query& q) {
  FUSENAS_CHECK(q.fidelity.epochs >= 1 && q.fidelity.train_images >= 1 && q.fidelity.downscale >= 1,
                "a fidelity needs epochs, training images and downscale of at least 1");
  FUSENAS_CHECK(std::isfinite(q.dcn) && q.dcn >= 0 && q.dcn <= 1,
                "a DCN must lie in [0, 1], got {}", q.dcn);
  const ArchFeatures a = arch_features(q.space, q.space_options, q.arch,
                                       dataset_image_shape(q.dataset, q.fidelity.downscale));
  Row r;
  r.layers = a.layers;
  for (int i = 0; i < kArchFeatures; ++i) r.global[static_cast<size_t>(i)] = a.summary[i];
  float* run = r.global.data() + kArchFeatures;
  run[0] = static_cast<float>(q.dcn);
  run[1] = static_cast<float>(std::log2(static_cast<double>(q.fidelity.epochs)) / 5.0);
  run[2] = static_cast<float>(std::log2(static_cast<double>(q.fidelity.train_images)) / 16.0);
  run[3] = static_cast<float>(std::log2(static_cast<double>(q.fidelity.downscale)) / 2.0);
  return r;
}

// Rows as tensors: per time step the layer features [N, F] and a 0/1 mask [N, H] (a sequence
// that has ended keeps its state), the globals [N, G] and, for the MLP, the layers' mean and max.
struct Batch {
  int64_t n = 0;
  std::vector<Tensor> steps, masks;
  Tensor global, pooled;
};

Batch make_batch(const std::vector<Row>& rows, int64_t hidden) {
  Batch b;
  b.n = static_cast<int64_t>(rows.size());
  size_t t_max = 0;
  for (const Row& r : rows) t_max = std::max(t_max, r.layers.size());
  const auto n = static_cast<size_t>(b.n);
  for (size_t t = 0; t < t_max; ++t) {
    std::vector<float> x(n * kLayerFeatures, 0.0f), m(n * static_cast<size_t>(hidden), 0.0f);
    for (size_t i = 0; i < n; ++i) {
      if (t >= rows[i].layers.size()) continue;
      std::copy(rows[i].layers[t].begin(), rows[i].layers[t].end(), x.begin() + i * kLayerFeatures);
      std::fill_n(m.begin() + i * hidden, hidden, 1.0f);
    }
    b.steps.push_back(from_vector(x, {b.n, kLayerFeatures}));
    b.masks.push_back(from_vector(m, {b.n, hidden}));
  }
  constexpr int kGlobal = kArchFeatures + kRunFeatures;
  std::vector<float> g(n * kGlobal), p(n * 2 * kLayerFeatures);
  for (size_t i = 0; i < n; ++i) {
    std::copy(rows[i].global.begin(), rows[i].global.end(), g.begin() + i * kGlobal);
    float* mean = p.data() + i * 2 * kLayerFeatures;
    float* max = mean + kLayerFeatures;
    std::fill_n(max, kLayerFeatures, -1e30f);
    for (const LayerFeatures& l : rows[i].layers) {
      for (int k = 0; k < kLayerFeatures; ++k) {
        mean[k] += l[static_cast<size_t>(k)] / static_cast<float>(rows[i].layers.size());
        max[k] = std::max(max[k], l[static_cast<size_t>(k)]);
      }
    }
  }
  b.global = from_vector(g, {b.n, kGlobal});
  b.pooled = from_vector(p, {b.n, 2 * kLayerFeatures});
  return b;
}

class Net : public nn::Module {
 public:
  Net(const std::string& kind, int64_t hidden, Generator& gen) : lstm_(kind == "lstm") {
    constexpr int kGlobal = kArchFeatures + kRunFeatures;
    const int64_t in = (lstm_ ? hidden : 2 * kLayerFeatures) + kGlobal;
    if (lstm_)
      cell_ = register_module("lstm", std::make_shared<nn::LSTMCell>(kLayerFeatures, hidden, gen));
    fc1_ = register_module("fc1", std::make_shared<nn::Linear>(in, hidden, gen));
    fc2_ = register_module("fc2", std::make_shared<nn::Linear>(hidden, 1, gen));
  }
  std::string type_name() const override { return "TapasNet"; }
  using Module::forward;
  // -> [N, 1], the standardized accuracy.
  Tensor forward(const Batch& b) {
    Tensor features;
    if (lstm_) {
      nn::LSTMState s = cell_->zero_state(b.n);
      for (size_t t = 0; t < b.steps.size(); ++t) {
        const nn::LSTMState next = cell_->forward(b.steps[t], s);
        // Where the sequence has ended (mask 0) the state stays: h += m * (h' - h).
        s.h = s.h + b.masks[t] * (next.h - s.h);
        s.c = s.c + b.masks[t] * (next.c - s.c);
      }
      features = concat({s.h, b.global}, 1);
    } else {
      features = concat({b.pooled, b.global}, 1);
    }
    return fc2_->forward(tanh(fc1_->forward(features)));
  }

 private:
  bool lstm_;
  std::shared_ptr<nn::LSTMCell> cell_;
  std::shared_ptr<nn::Linear> fc1_, fc2_;
};

nlohmann::json read_model_json(const fs::path& path) {
  FUSENAS_CHECK(fs::is_regular_file(path), "model file {} does not exist", path.string());
  try {
    return nlohmann::json::parse(io::read_file(path.string()));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{} is not valid JSON ({})", path.string(), e.what());
  }
}

}  // namespace

struct Predictor::Impl {
  PredictorOptions options;
  double target_mean = 0, target_std = 1;
  std::map<std::string, Difficulty> datasets;
  nlohmann::json trained_on = nlohmann::json::object();
  std::vector<std::shared_ptr<Net>> members;

  void build_members() {
    members.clear();
    for (int m = 0; m < options.ensemble; ++m) {
      Generator gen(options.seed + static_cast<uint64_t>(m));
      members.push_back(std::make_shared<Net>(options.model, options.hidden, gen));
    }
  }

  std::vector<double> predict_rows(const std::vector<Row>& rows) const {
    if (rows.empty()) return {};
    const NoGradGuard no_grad;
    const Batch b = make_batch(rows, options.hidden);
    std::vector<double> out(rows.size(), 0.0);
    for (const auto& net : members) {
      const std::vector<float> y = net->forward(b).contiguous().to_vector<float>();
      for (size_t i = 0; i < out.size(); ++i) out[i] += y[i];
    }
    for (double& v : out) v = target_mean + target_std * v / static_cast<double>(members.size());
    return out;
  }
};

Predictor::Predictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;
Predictor::~Predictor() = default;

Predictor Predictor::train(const PredictorData& data, const PredictorOptions& options) {
  options.validate();
  FUSENAS_CHECK(data.examples.size() >= 4, "the predictor needs at least 4 examples, got {}",
                data.examples.size());
  const auto start = std::chrono::steady_clock::now();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->datasets = data.datasets;
  std::vector<Row> rows;
  std::vector<float> y;
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < data.examples.size(); ++i) {
    const Example& e = data.examples[i];
    try {
      rows.push_back(row_of(query_of(e, data.datasets)));
    } catch (const Error& err) {
      FUSENAS_FAIL("example {}: {}", i, err.what());
    }
    sum += e.score;
    sum2 += e.score * e.score;
  }
  const double n = static_cast<double>(rows.size());
  impl->target_mean = sum / n;
  // A floor keeps a constant target (a degenerate database) from dividing by zero.
  impl->target_std =
      std::max(std::sqrt(std::max(sum2 / n - impl->target_mean * impl->target_mean, 0.0)), 1e-3);
  for (const Example& e : data.examples)
    y.push_back(static_cast<float>((e.score - impl->target_mean) / impl->target_std));
  const Batch batch = make_batch(rows, options.hidden);
  const Tensor target = from_vector(y, {batch.n, 1});
  impl->build_members();
  for (const auto& net : impl->members) {
    optim::Adam adam(net->parameters(), options.lr, {0.9, 0.999}, 1e-8, options.weight_decay);
    for (int step = 0; step < options.steps; ++step) {
      adam.zero_grad();
      const Tensor loss = mean(square(net->forward(batch) - target));
      loss.backward();
      adam.step();
    }
  }
  const std::vector<double> fit = impl->predict_rows(rows);
  double mae = 0;
  for (size_t i = 0; i < fit.size(); ++i) mae += std::abs(fit[i] - data.examples[i].score);
  // What it was trained on, in the model file, so a prediction can say where it comes from.
  nlohmann::json spaces = nlohmann::json::object(), datasets = nlohmann::json::object();
  std::map<std::string, int64_t> fidelities;
  int64_t trials = 0;
  double lo = 100, hi = 0;
  for (const Example& e : data.examples) {
    lo = std::min(lo, e.score);
    hi = std::max(hi, e.score);
    spaces[e.space] = spaces.value(e.space, 0) + 1;
    datasets[e.dataset] = datasets.value(e.dataset, 0) + 1;
    ++fidelities[e.fidelity.to_json().dump()];
    trials += e.trials;
  }
  nlohmann::json fid = nlohmann::json::array();
  for (const auto& [f, count] : fidelities) {
    nlohmann::json entry = nlohmann::json::parse(f);
    entry["examples"] = count;
    fid.push_back(entry);
  }
  impl->trained_on = {
      {"examples", data.examples.size()},
      {"trials", trials},
      {"spaces", spaces},
      {"datasets", datasets},
      {"fidelities", fid},
      {"runs", data.runs},
      {"score_range", {lo, hi}},
      {"train_mae", mae / n},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  return Predictor(std::move(impl));
}

void Predictor::save(const std::string& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  FUSENAS_CHECK(fs::is_directory(dir), "cannot create model folder {}", dir);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (size_t m = 0; m < impl_->members.size(); ++m) {
    for (const auto& [name, t] : impl_->members[m]->state_dict())
      tensors.emplace_back(fmt::format("member{}.{}", m, name), t);
  }
  io::save_safetensors((fs::path(dir) / kWeightsFile).string(), tensors, {{"format", kFormat}});
  nlohmann::json ds = nlohmann::json::object();
  for (const auto& [name, d] : impl_->datasets) ds[name] = d.to_json();
  const nlohmann::json j = {{"format", kFormat},
                            {"version", kVersion},
                            {"options", impl_->options.to_json()},
                            {"target", {{"mean", impl_->target_mean}, {"std", impl_->target_std}}},
                            {"datasets", ds},
                            {"trained_on", impl_->trained_on}};
  io::write_file_atomic((fs::path(dir) / kModelFile).string(), j.dump(2) + "\n");
}

Predictor Predictor::load(const std::string& dir) {
  FUSENAS_CHECK(fs::is_directory(dir), "model folder {} does not exist", dir);
  const fs::path model_path = fs::path(dir) / kModelFile;
  const nlohmann::json j = read_model_json(model_path);
  const std::string what = model_path.string();
  FUSENAS_CHECK(j.is_object() && j.value("format", "") == kFormat,
                "{} is not a predictor model (no \"format\": \"{}\")", what, kFormat);
  FUSENAS_CHECK(j.value("version", 0) == kVersion, "{} has version {}, this build reads {}", what,
                j.value("version", 0), kVersion);
  auto impl = std::make_unique<Impl>();
  try {
    impl->options = PredictorOptions::from_json(j.at("options"));
    impl->target_mean = j.at("target").at("mean").get<double>();
    impl->target_std = j.at("target").at("std").get<double>();
    for (const auto& [name, v] : j.at("datasets").items())
      impl->datasets[name] = Difficulty::from_json(v);
    impl->trained_on = j.value("trained_on", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: {}", what, e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}: {}", what, e.what());
  }
  impl->build_members();
  const io::SafetensorsFile weights = io::load_safetensors((fs::path(dir) / kWeightsFile).string());
  for (size_t m = 0; m < impl->members.size(); ++m) {
    nn::StateDict sd;
    const std::string prefix = fmt::format("member{}.", m);
    for (const auto& [name, t] : weights.tensors)
      if (name.rfind(prefix, 0) == 0) sd[name.substr(prefix.size())] = t;
    try {
      impl->members[m]->load_state_dict(sd, /*strict=*/true);
    } catch (const Error& e) {
      FUSENAS_FAIL("{}/{} does not match {}: {}", dir, kWeightsFile, kModelFile, e.what());
    }
  }
  return Predictor(std::move(impl));
}

double Predictor::predict(const Query& q) const {
  return predict(std::vector<Query>{q}).front();
}

std::vector<double> Predictor::predict(const std::vector<Query>& qs) const {
  std::vector<Row> rows;
  rows.reserve(qs.size());
  for (const Query& q : qs) rows.push_back(row_of(q));
  return impl_->predict_rows(rows);
}

std::optional<double> Predictor::dcn(const std::string& dataset) const {
  const auto it = impl_->datasets.find(dataset);
  if (it == impl_->datasets.end()) return std::nullopt;
  return it->second.dcn;
}

const nlohmann::json& Predictor::trained_on() const {
  return impl_->trained_on;
}

const PredictorOptions& Predictor::options() const {
  return impl_->options;
}

Evaluation evaluate(const Predictor& predictor, const PredictorData& data) {
  FUSENAS_CHECK(data.examples.size() >= 2, "an evaluation needs at least 2 examples, got {}",
                data.examples.size());
  std::vector<Query> qs;
  for (const Example& e : data.examples) {
    std::map<std::string, Difficulty> known = data.datasets;
    if (!known.count(e.dataset)) {
      const std::optional<double> d = predictor.dcn(e.dataset);
      FUSENAS_CHECK(d.has_value(),
                    "no difficulty (DCN) is known for dataset '{}': neither the data nor the "
                    "model has one",
                    e.dataset);
      known[e.dataset].dcn = *d;
    }
    qs.push_back(query_of(e, known));
  }
  Evaluation ev;
  ev.n = static_cast<int64_t>(qs.size());
  ev.predicted = predictor.predict(qs);
  for (const Example& e : data.examples) ev.truth.push_back(e.score);
  double err = 0;
  for (size_t i = 0; i < qs.size(); ++i) err += std::abs(ev.predicted[i] - ev.truth[i]);
  ev.mae = err / static_cast<double>(qs.size());
  ev.kendall_tau = kendall_tau(ev.predicted, ev.truth);
  ev.spearman_rho = spearman_rho(ev.predicted, ev.truth);
  return ev;
}

}  // namespace fusenas::nas::estimate::tapas
