// Recurrent language-model training-step timings (DARTS, ENAS, Zoph & Le cells, and DARTS's search
// cell) against PyTorch.
#include "lm_suite.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <vector>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/darts/lm_search.h"
#include "fusenas/nas/rnn/darts_recurrent_cell.h"
#include "fusenas/nas/rnn/lm_step.h"
#include "fusenas/nas/rnn/recurrent_arch.h"
#include "fusenas/nas/rnn/recurrent_lm.h"
#include "fusenas/nas/train/lm_config.h"

namespace fusenas::bench {
namespace {

// The name the peer knows the PyTorch-only LSTM case by; FuseNAS has no LSTM LM to time.
constexpr const char* kTorchLstm = "LSTM";
// DARTS's search relaxation (8 nodes, every earlier state through every op), stepped on the weights
// as nas_darts --task lm steps them between architect steps.
constexpr const char* kSearchCell = "search";

struct LmShape {
  std::string cell;  // a built-in recurrent cell, or kTorchLstm (peer only)
  int64_t vocab, hidden, batch, bptt;
};

bool peer_only(const LmShape& s) {
  return s.cell == kTorchLstm;
}

std::string label(const LmShape& s) {
  const std::string name = peer_only(s)            ? std::string("torch LSTM")
                           : s.cell == kSearchCell ? std::string("DARTS search cell")
                                                   : s.cell;
  return fmt::format("{} (V={}, H={}, b{}, bptt {})", name, s.vocab, s.hidden, s.batch, s.bptt);
}

int64_t tokens_per_step(const LmShape& s) {
  return s.batch * s.bptt;
}

// Everything one timed step needs, alive for as long as the timing runs.
struct LmStepState {
  // nas_train --task lm's defaults (DARTS rnn/train.py): lr 20, clip 0.25, weight decay 8e-7,
  // its five dropouts and TAR 1e-3; the search cell's are nas_darts --task lm's (train_search.py).
  // The sizes come from the case.
  nas::LmSection lm;
  Device device = Device::cpu();
  std::shared_ptr<nas::rnn::RecurrentLm> model;
  std::vector<Tensor> params;
  std::unique_ptr<optim::SGD> sgd;
  nas::rnn::LmDropout dropout;
  Generator drop_gen{1};
  nas::rnn::LmState state;
  std::vector<Tensor> inputs, targets;  // rotated so no two consecutive steps share a window
  size_t next = 0;
};

// The training hyperparameters of a case's app: nas_darts --task lm's for the search cell,
// nas_train --task lm's otherwise.
nas::LmSection lm_section(const LmShape& s) {
  return s.cell == kSearchCell ? nas::LmSearchConfig{}.lm : nas::LmTrainConfig{}.lm;
}

std::shared_ptr<LmStepState> make_state(const LmShape& s, Device device) {
  auto st = std::make_shared<LmStepState>();
  st->lm = lm_section(s);
  st->device = device;
  Generator init(1);
  std::shared_ptr<nas::rnn::DartsRecurrentSearchCell> search;
  nas::rnn::RecurrentCell cell;
  if (s.cell == kSearchCell) {
    search = std::make_shared<nas::rnn::DartsRecurrentSearchCell>(s.hidden, s.hidden, init);
    cell = search;
  } else {
    cell = nas::rnn::make_recurrent_cell(nas::rnn::builtin_recurrent_arch(s.cell), s.hidden,
                                         s.hidden, init);
  }
  st->model = std::make_shared<nas::rnn::RecurrentLm>(s.vocab, std::move(cell), init);
  if (!device.is_cpu()) st->model->to(device);
  if (search) {
    // model_search.py's 1e-3 * randn; the weight step's backward reaches them, as in the search.
    Tensor alphas =
        normal({search->num_edges(), nas::rnn::kDartsRecurrentSearchOps}, 0.0, 1e-3, init);
    if (!device.is_cpu()) alphas = alphas.to(device);
    st->model->set_alphas(alphas.set_requires_grad());
  }
  st->model->train();
  st->params = st->model->parameters();
  // DARTS rnn/train.py before NT-ASGD's switch: plain SGD, no momentum, L2 weight decay.
  st->sgd = std::make_unique<optim::SGD>(st->params, st->lm.lr, 0.0, st->lm.weight_decay);
  st->dropout = nas::rnn::lm_dropout(st->lm);
  st->state = st->model->zero_state(s.batch);
  // Random token ids stand in for a corpus: the step's cost does not depend on which words.
  Generator data(2);
  for (int i = 0; i < 2; ++i) {
    const Tensor tokens = randint({s.bptt + 1, s.batch}, 0, s.vocab, data);
    st->inputs.push_back(tokens.narrow(0, 0, s.bptt).contiguous().to(device));
    st->targets.push_back(tokens.narrow(0, 1, s.bptt).contiguous().to(device));
  }
  return st;
}

// One training step through the library's own (nas_train --task lm's and nas_darts --task lm's),
// at the fixed window length: the lr scaling by a drawn length is a no-op at bptt.
void step(LmStepState& st) {
  const size_t i = st.next++ % st.inputs.size();
  nas::rnn::lm_train_step(*st.model, *st.sgd, st.params, st.inputs[i], st.targets[i], st.state,
                          st.dropout, st.drop_gen, nas::rnn::lm_step_options(st.lm), st.lm.lr);
  // The trainer reads nothing back per step; wait here so host time is the step's device time.
  if (st.device.is_cuda()) cuda::synchronize();
}

// The peer's median for a case, when it timed one (it answers null for cells it does not model).
std::optional<double> peer_ms(const nlohmann::json& theirs) {
  if (!theirs.is_object() || !theirs.contains("median_ms") || !theirs["median_ms"].is_number())
    return std::nullopt;
  return theirs["median_ms"].get<double>();
}

}  // namespace

int run_lm_suite(Device device, int threads, const Options& options, bool peers, bool quick,
                 const std::string& json_path, const std::string& filter) {
  // The full size: DARTS's PTB setup (vocabulary 10000, batch 64, bptt 35) at hidden 200, the
  // size the perplexity runs use.
  const LmShape size = quick ? LmShape{"", 100, 16, 4, 5} : LmShape{"", 10000, 200, 64, 35};
  std::vector<LmShape> shapes;
  for (const char* cell : {"DARTS_V2", "ENAS", "ZOPH_LE", kTorchLstm, kSearchCell}) {
    LmShape s = size;
    s.cell = cell;
    shapes.push_back(s);
  }
  Options opt = options;
  // A full-size step is about a second on two cores: a few repetitions suffice.
  opt.warmup = std::min(opt.warmup, 1);
  opt.iterations = std::min(opt.iterations, 3);
  opt.min_seconds = 0;
  fmt::print("FuseNAS bench: suite lm on {} with {} thread(s)\n", device.str(), threads);
  std::vector<BenchCase> cases;
  std::vector<LmShape> kept;
  std::vector<std::optional<Timing>> ours;
  for (const auto& s : shapes) {
    if (!filter.empty() && !std::regex_search(label(s), std::regex(filter))) continue;
    const nas::LmSection lm = lm_section(s);
    cases.push_back({label(s),
                     fmt::format("{}x{}", s.bptt, s.batch),
                     {{"cell", s.cell},
                      {"vocab", s.vocab},
                      {"hidden", s.hidden},
                      {"batch", s.batch},
                      {"bptt", s.bptt},
                      {"lr", lm.lr},
                      {"clip", lm.clip},
                      {"weight_decay", lm.weight_decay},
                      {"alpha", lm.alpha},
                      {"beta", lm.beta},
                      {"dropout",
                       {{"input", lm.dropouti},
                        {"x", lm.dropoutx},
                        {"h", lm.dropouth},
                        {"output", lm.dropout},
                        {"embedding", lm.dropoute}}}},
                     {}});
    kept.push_back(s);
    if (peer_only(s)) {
      ours.emplace_back();
      continue;
    }
    auto st = make_state(s, device);
    ours.push_back(time_it([st] { step(*st); }, opt));
    fmt::print(stderr, "  {:<44} {:>9.1f} ms\n", cases.back().name, ours.back()->median_ms);
  }
  nlohmann::json peer =
      peers ? run_peer("lm_step.py", cases, opt, threads, device.str()) : nlohmann::json::object();
  const bool have_peer = peer.contains("results") && peer["results"].is_array() &&
                         peer["results"].size() == cases.size();
  const auto ms = [](std::optional<double> v) {
    return v ? fmt::format("{:.1f}", *v) : std::string("-");
  };
  const auto rate = [](std::optional<double> v) {
    return v ? fmt::format("{:.0f}", *v) : std::string("-");
  };
  fmt::print("\n{:<44} {:>9} {:>11} {:>17} {:>11} {:>11}\n", "case", "ours ms", "ours tok/s",
             have_peer ? fmt::format("torch {} ms", peer["torch"].get<std::string>())
                       : std::string("torch ms"),
             "torch tok/s", "torch/ours");
  nlohmann::json out = {{"suite", "lm"},
                        {"device", device.str()},
                        {"threads", threads},
                        {"cases", nlohmann::json::array()}};
  const auto number = [](std::optional<double> v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const nlohmann::json theirs = have_peer ? peer["results"][i] : nlohmann::json();
    const std::optional<double> t = peer_ms(theirs);
    const std::optional<double> o =
        ours[i] ? std::optional<double>(ours[i]->median_ms) : std::nullopt;
    const int64_t tokens = tokens_per_step(kept[i]);
    const auto per_s = [&](std::optional<double> v) {
      return v && *v > 0 ? std::optional<double>(static_cast<double>(tokens) * 1e3 / *v)
                         : std::nullopt;
    };
    fmt::print("{:<44} {:>9} {:>11} {:>17} {:>11} {:>11}\n", cases[i].name, ms(o), rate(per_s(o)),
               ms(t), rate(per_s(t)),
               o && t && *o > 0 ? fmt::format("{:.2f}x", *t / *o) : std::string("-"));
    out["cases"].push_back({{"name", cases[i].name},
                            {"cell", kept[i].cell},
                            {"vocab", kept[i].vocab},
                            {"hidden", kept[i].hidden},
                            {"batch", kept[i].batch},
                            {"bptt", kept[i].bptt},
                            {"tokens_per_step", tokens},
                            {"fusenas_ms", number(o)},
                            {"fusenas_tokens_per_s", number(per_s(o))},
                            {"torch_ms", number(t)},
                            {"torch_tokens_per_s", number(per_s(t))},
                            {"torch", theirs}});
  }
  if (!json_path.empty()) io::write_file_atomic(json_path, out.dump(2) + "\n");
  return 0;
}

}  // namespace fusenas::bench
