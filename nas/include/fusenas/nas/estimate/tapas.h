// Train-less accuracy prediction after Istrate et al. 2018 (TAPAS): per-layer features of an
// architecture, a dataset-difficulty score from a cheap probe network, the database of trained
// networks gathered from earlier searches' trial stores, and the predictor trained on it.
//
// The pieces, as in the paper:
// - Dataset characterization: a small fixed probe network (stem + conv3x3x16/2 + conv3x3x32/2
//   of the chain space) trained for a few epochs on a fixed-size subset of the target data; its
//   validation accuracy in [0, 1] is the dataset characterization number (DCN). Higher = easier.
// - The database of experiments: the done, trained-from-scratch trials of chain and multibranch
//   searches (trials.sqlite + config.json of each run folder), one example per distinct
//   (space, space options, architecture, dataset, fidelity), its score the mean search-val
//   accuracy of the trials that share it. Darts-cell and joint spaces are not supported: a
//   genotype is a cell graph, not a layer sequence.
// - The predictor: a small LSTM over the layer features whose last state, joined to the
//   summary features (depth, parameters, DCN, epochs, images, downscale), feeds a 2-layer head
//   that predicts the standardized search-val accuracy ("lstm"); or the same head over the
//   layers' mean and max ("mlp"). Both are trained with the engine's autograd and Adam,
//   full batch, deterministic given the seed; an ensemble averages members of different seeds.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/engine/data/loader.h"
#include "fusenas/nas/enas/macro_arch.h"
#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::estimate::tapas {

// Per layer, in order (every entry roughly in [0, 1]):
//  0-4  type one-hot: conv, sep_conv, max_pool, avg_pool, identity (a multibranch op maps to
//       its type: conv_5x5 is a conv of kernel 5)
//  5    kernel / 5 (0 for identity)
//  6    log2(filters) / 8 for the types with a filter count (convolutions), else 0
//  7    1 where the feature map halves at this layer (a stride-2 chain layer; a multibranch
//       layer followed by its FactorizedReduce), else 0
//  8    position: (index + 1) / 8
//  9    running spatial reduction: log2(input size / map size after the layer) / 4
//  10   running width: log2(channels after the layer) / 8
//  11   skips: earlier layers added in / index (multibranch; 0 for layer 0 and for chains)
//  12   log10(1 + parameters of the stem and the layers so far) / 6 (convolutions and their
//       BN; the chain space counts exactly these, the multibranch space adds skip BNs and
//       reductions, which are left out here)
inline constexpr int kLayerFeatures = 13;
// Per architecture: 0 layers / 8, 1 log10(total parameters, the space's count) / 6,
// 2 1 for a multibranch point, 0 for a chain.
inline constexpr int kArchFeatures = 3;
// The fidelity and data part: 0 DCN, 1 log2(epochs) / 5, 2 log2(training images) / 16,
// 3 log2(downscale) / 2.
inline constexpr int kRunFeatures = 4;

using LayerFeatures = std::array<float, kLayerFeatures>;

struct ArchFeatures {
  std::vector<LayerFeatures> layers;  // at least one
  std::array<float, kArchFeatures> summary{};
};

// The image a network sees on a dataset ("fashion-mnist": 1 x 28, "cifar10": 3 x 32, 10
// classes), shrunk by `downscale` as the estimators' downscale knob does. Throws fusenas::Error
// for another dataset or a downscale that leaves under 4 pixels.
space::ImageShape dataset_image_shape(const std::string& dataset, int64_t downscale = 1);

// The features of one architecture. `stem_channels` / `channels` are the space options'.
ArchFeatures chain_features(const space::ChainArch& arch, const space::ImageShape& shape,
                            int64_t stem_channels);
ArchFeatures multibranch_features(const enas::MacroArch& arch, const space::ImageShape& shape,
                                  int64_t channels);
// By space name ("chain" or "multibranch", with that space's options), validating the point.
// Throws fusenas::Error naming the space for any other (darts-cell cells are graphs, not layer
// sequences, and are not supported).
ArchFeatures arch_features(const std::string& space, const nlohmann::json& space_options,
                           const nlohmann::json& point, const space::ImageShape& shape);
bool supported_space(const std::string& space);

// ---- Dataset difficulty ----

// The default probe takes about 3 s on one core. On Fashion-MNIST (2000 validation images) it
// scored 0.45 / 0.59 / 0.68 after 2 / 3 / 5 epochs on 2000 images and 0.64 / 0.69 / 0.73 on
// 4000: 3 epochs on 4000 is past the steepest part at a few seconds' cost.
struct ProbeConfig {
  int epochs = 3;
  int64_t train_images = 4000;  // the first images of the training set ...
  int64_t val_images = 2000;    // ... and the ones after them
  int64_t batch_size = 96;
  double lr = 0.05;  // SGD, momentum 0.9, weight decay 3e-4: the searches' trial defaults
  uint64_t seed = 0;
  nlohmann::json to_json() const;
  static ProbeConfig from_json(const nlohmann::json& j);
  void validate() const;
  friend bool operator==(const ProbeConfig&, const ProbeConfig&) = default;
};

struct Difficulty {
  double dcn = 0;  // the probe's validation accuracy in [0, 1]
  ProbeConfig probe;
  double seconds = 0;  // how long the probe took
  nlohmann::json to_json() const;
  static Difficulty from_json(const nlohmann::json& j);
};

// Trains the probe network (ProbeConfig's epochs and lr) on `train` for `shape` and returns its
// accuracy on one pass of `val`, in [0, 1]. Uses the loaders as they are (their batch size,
// order and subset).
double probe_accuracy(data::DataLoader& train, data::DataLoader& val,
                      const space::ImageShape& shape, const ProbeConfig& probe);
// The probe on `dataset` read from `data_dir` (empty: its standard folder) with the config's
// subset. Throws fusenas::Error naming the folder when the dataset cannot be read.
Difficulty dataset_difficulty(const std::string& dataset, const std::string& data_dir,
                              const ProbeConfig& probe = {});

// ---- The database of trained networks ----

struct Fidelity {
  int64_t epochs = 0;
  int64_t train_images = 0;  // images trained on per epoch (the search-train side)
  int64_t downscale = 1;
  nlohmann::json to_json() const;
  static Fidelity from_json(const nlohmann::json& j);
  friend auto operator<=>(const Fidelity&, const Fidelity&) = default;
};

struct Example {
  std::string space;  // "chain" or "multibranch"
  nlohmann::json space_options = nlohmann::json::object();
  nlohmann::json arch;  // the space's point
  std::string dataset;
  Fidelity fidelity;
  double score = 0;                  // mean search-val accuracy, percent
  int64_t trials = 1;                // how many trials the mean is over
  std::vector<std::string> sources;  // "<run folder>#<trial id>" of each
};

struct PredictorData {
  static constexpr const char* kFormat = "fusenas-tapas-data";
  static constexpr int kVersion = 1;
  std::vector<Example> examples;
  std::map<std::string, Difficulty> datasets;  // DCN by dataset name
  std::vector<std::string> runs;               // the run folders gathered

  nlohmann::json to_json() const;
  // Throws fusenas::Error naming `what` (the file) and the first thing wrong.
  static PredictorData from_json(const nlohmann::json& j, const std::string& what);
  void save(const std::string& path) const;  // atomically
  static PredictorData load(const std::string& path);
};

struct GatherOptions {
  ProbeConfig probe;
  // Computes a dataset's difficulty (default: dataset_difficulty on the folder the run's
  // config.json names). Called once per dataset that `existing` lacks with this probe.
  std::function<Difficulty(const std::string& dataset, const std::string& data_dir)> difficulty;
  // Where to read datasets when not from the runs' config.json (empty: theirs).
  std::string data_dir;
};

struct GatherReport {
  int64_t trials = 0;                      // trials read
  int64_t kept = 0;                        // of which went into examples
  std::map<std::string, int64_t> skipped;  // reason -> count
  std::vector<std::string> notes;          // runs skipped whole, and why
};

// Reads every run folder (its trials.sqlite and config.json; a missing or unreadable one throws
// fusenas::Error naming it) and adds its done, trained-from-scratch trials of supported spaces
// to `existing` (trials already listed in an example's sources are not counted twice). Trials
// that share (space, options, arch, dataset, fidelity) become one example, the mean of their
// scores. Skipped: unfinished trials, one-shot scores (nothing trained), morphism children
// (inherited weights), downscaled models (model_scale != 1), runs of other spaces. Throws when no
// run held a usable trial and `existing` has no examples.
PredictorData gather(const std::vector<std::string>& run_dirs, const GatherOptions& options,
                     PredictorData existing = {}, GatherReport* report = nullptr);

// ---- The predictor ----

// The default is the MLP. On the project's own database (162 chains at 3 epochs, 5-fold by
// architecture) both rank alike (mean Kendall tau 0.74 LSTM, 0.72 MLP), the LSTM fits values a
// little better (MAE 3.5 against 4.1 points), and on ref-chain's 40 unseen chains at 10 epochs the
// MLP ranks better (tau 0.84 against 0.76); it trains in 0.5 s against the LSTM's 15 s. With a few
// hundred examples the LSTM's extra freedom buys nothing measurable yet; the position and running
// reduction features already carry the order the mean and max would lose.
struct PredictorOptions {
  std::string model = "mlp";  // "mlp" or "lstm"
  int hidden = 16;            // LSTM state and head width
  int steps = 1500;           // full-batch Adam steps
  double lr = 0.01;
  double weight_decay = 1e-4;
  int ensemble = 3;  // members, seeds seed, seed + 1, ...; the prediction is their mean
  uint64_t seed = 0;
  nlohmann::json to_json() const;
  static PredictorOptions from_json(const nlohmann::json& j);
  void validate() const;
};

// What to predict: an architecture trained at a fidelity on a dataset of difficulty `dcn`.
struct Query {
  std::string space;
  nlohmann::json space_options = nlohmann::json::object();
  nlohmann::json arch;
  std::string dataset;
  Fidelity fidelity;
  double dcn = 0;
};

// The query of an example, its DCN from `datasets` (throws naming the dataset when absent).
Query query_of(const Example& e, const std::map<std::string, Difficulty>& datasets);

class Predictor {
 public:
  static constexpr const char* kFormat = "fusenas-tapas-predictor";
  static constexpr int kVersion = 1;
  static constexpr const char* kModelFile = "predictor.json";
  static constexpr const char* kWeightsFile = "weights.safetensors";

  // Trains on every example of `data` (at least 4). Deterministic given options.seed.
  static Predictor train(const PredictorData& data, const PredictorOptions& options);
  // Writes <dir>/predictor.json (options, target scaling, DCN table, what it was trained on)
  // and <dir>/weights.safetensors; creates `dir`.
  void save(const std::string& dir) const;
  // Throws fusenas::Error naming the file for a missing, foreign or inconsistent model.
  static Predictor load(const std::string& dir);

  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;
  ~Predictor();

  // Predicted search-val accuracy in percent.
  double predict(const Query& q) const;
  std::vector<double> predict(const std::vector<Query>& qs) const;
  // The DCN of a dataset it was trained with, if any.
  std::optional<double> dcn(const std::string& dataset) const;
  // {"examples", "trials", "spaces", "datasets", "fidelities", "runs", "seconds",
  //  "train_mae"}: what it was trained on and how large that was.
  const nlohmann::json& trained_on() const;
  const PredictorOptions& options() const;

 private:
  struct Impl;
  explicit Predictor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct Evaluation {
  int64_t n = 0;
  double kendall_tau = 0, spearman_rho = 0, mae = 0;  // mae in accuracy points
  std::vector<double> predicted, truth;
};
// Predicts every example of `data` (DCN from `data`, else from the model) and compares with the
// scores. Throws for fewer than 2 examples.
Evaluation evaluate(const Predictor& predictor, const PredictorData& data);

}  // namespace fusenas::nas::estimate::tapas
