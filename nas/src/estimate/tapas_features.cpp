// TAPAS's inputs: the per-layer features of chain and multibranch architectures, and the dataset
// difficulty (DCN) that a small probe network measures.
#include <chrono>
#include <cmath>
#include <utility>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/sgd.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/config_sections.h"
#include "fusenas/nas/run/evaluate.h"
#include "fusenas/nas/run/setup.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/make_space.h"
#include "fusenas/nas/space/multibranch_space.h"

namespace fusenas::nas::estimate::tapas {

namespace {

float log2f_of(int64_t v) {
  return static_cast<float>(std::log2(static_cast<double>(v)));
}
float log10_params(int64_t params) {
  return static_cast<float>(std::log10(1.0 + static_cast<double>(params)) / 6.0);
}

// Both spaces pad k / 2, so a stride-2 layer (or a FactorizedReduce) maps n pixels to ceil(n / 2).
int64_t halve(int64_t size) {
  return (size + 1) / 2;
}

void set_type(LayerFeatures& f, space::ChainLayerType t) {
  f[static_cast<size_t>(t)] = 1.0f;
}

}  // namespace

space::ImageShape dataset_image_shape(const std::string& dataset, int64_t downscale) {
  FUSENAS_CHECK(dataset == "fashion-mnist" || dataset == "cifar10",
                "unknown dataset '{}' (the predictor knows fashion-mnist and cifar10)", dataset);
  DataSection d;
  d.dataset = dataset;
  FUSENAS_CHECK(downscale >= 1 && d.image_size() / downscale >= 4,
                "downscale {} leaves {}'s {}-pixel images under 4 pixels", downscale, dataset,
                d.image_size());
  return {d.in_channels(), d.image_size() / downscale, 10};
}

ArchFeatures chain_features(const space::ChainArch& arch, const space::ImageShape& shape,
                            int64_t stem_channels) {
  using space::ChainLayerType;
  FUSENAS_CHECK(!arch.layers.empty(), "a chain architecture needs at least one layer");
  ArchFeatures out;
  int64_t size = shape.size, channels = stem_channels;
  // The stem: 3x3 conv to stem_channels, BN.
  int64_t params = 9 * shape.channels * stem_channels + 2 * stem_channels;
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const space::ChainLayer& l = arch.layers[i];
    LayerFeatures f{};
    set_type(f, l.type);
    f[5] = static_cast<float>(l.kernel) / 5.0f;
    if (space::has_filters(l.type)) {
      f[6] = log2f_of(l.filters) / 8.0f;
      const int64_t k2 = l.kernel * l.kernel;
      params += (l.type == ChainLayerType::kConv ? k2 * channels * l.filters
                                                 : k2 * channels + channels * l.filters) +
                2 * l.filters;
      channels = l.filters;
    }
    if (l.stride == 2) {
      f[7] = 1.0f;
      size = halve(size);
    }
    f[8] = static_cast<float>(i + 1) / 8.0f;
    f[9] = static_cast<float>(std::log2(static_cast<double>(shape.size) / size) / 4.0);
    f[10] = log2f_of(channels) / 8.0f;
    f[12] = log10_params(params);
    out.layers.push_back(f);
  }
  out.summary[0] = static_cast<float>(arch.layers.size()) / 8.0f;
  return out;
}

ArchFeatures multibranch_features(const enas::MacroArch& arch, const space::ImageShape& shape,
                                  int64_t channels) {
  using enas::MacroOp;
  using space::ChainLayerType;
  arch.validate();
  ArchFeatures out;
  const int n = arch.num_layers();
  // enas::MacroSpace::reduces_after: after layers L/3 - 1 and 2L/3 - 1.
  const int distance = n / 3;
  int64_t size = shape.size;
  const int64_t c = channels;
  int64_t params = 9 * shape.channels * c + 2 * c;
  for (int i = 0; i < n; ++i) {
    const enas::MacroLayer& l = arch.layers[static_cast<size_t>(i)];
    LayerFeatures f{};
    switch (l.op) {
      case MacroOp::kConv3x3:
      case MacroOp::kConv5x5: {
        const int64_t k = l.op == MacroOp::kConv3x3 ? 3 : 5;
        set_type(f, ChainLayerType::kConv);
        f[5] = static_cast<float>(k) / 5.0f;
        f[6] = log2f_of(c) / 8.0f;
        params += k * k * c * c + 2 * c;
        break;
      }
      case MacroOp::kSepConv3x3:
      case MacroOp::kSepConv5x5: {
        const int64_t k = l.op == MacroOp::kSepConv3x3 ? 3 : 5;
        set_type(f, ChainLayerType::kSepConv);
        f[5] = static_cast<float>(k) / 5.0f;
        f[6] = log2f_of(c) / 8.0f;
        params += 2 * (k * k * c + c * c + 2 * c);  // ENAS applies the separable conv twice
        break;
      }
      case MacroOp::kMaxPool3x3:
        set_type(f, ChainLayerType::kMaxPool);
        f[5] = 3.0f / 5.0f;
        break;
      case MacroOp::kAvgPool3x3:
        set_type(f, ChainLayerType::kAvgPool);
        f[5] = 3.0f / 5.0f;
        break;
    }
    if (distance > 0 && (i == distance - 1 || i == 2 * distance - 1)) {
      f[7] = 1.0f;
      size = halve(size);
    }
    f[8] = static_cast<float>(i + 1) / 8.0f;
    f[9] = static_cast<float>(std::log2(static_cast<double>(shape.size) / size) / 4.0);
    f[10] = log2f_of(c) / 8.0f;
    if (i > 0) {
      int skips = 0;
      for (bool s : l.skips) skips += s ? 1 : 0;
      f[11] = static_cast<float>(skips) / static_cast<float>(i);
    }
    f[12] = log10_params(params);
    out.layers.push_back(f);
  }
  out.summary[0] = static_cast<float>(n) / 8.0f;
  out.summary[2] = 1.0f;
  return out;
}

bool supported_space(const std::string& space) {
  return space == "chain" || space == "multibranch";
}

ArchFeatures arch_features(const std::string& space_name, const nlohmann::json& space_options,
                           const nlohmann::json& point, const space::ImageShape& shape) {
  FUSENAS_CHECK(supported_space(space_name),
                "the accuracy predictor reads layer sequences of the chain and multibranch "
                "spaces, not of the '{}' space",
                space_name);
  const std::shared_ptr<space::ArchSpace> s = space::make_arch_space(space_name, space_options);
  s->validate(point);
  ArchFeatures f;
  if (space_name == "chain") {
    const auto& chain = static_cast<const space::ChainSpace&>(*s);
    f = chain_features(chain.arch(point), shape, chain.options().stem_channels);
  } else {
    const auto& mb = static_cast<const space::MultiBranchSpace&>(*s);
    f = multibranch_features(mb.arch(point), shape, mb.options().channels);
  }
  f.summary[1] = log10_params(s->count_parameters(point, shape));
  return f;
}

// ---- Dataset difficulty ----

nlohmann::json ProbeConfig::to_json() const {
  return {{"epochs", epochs},
          {"train_images", train_images},
          {"val_images", val_images},
          {"batch_size", batch_size},
          {"lr", lr},
          {"seed", seed}};
}

ProbeConfig ProbeConfig::from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object(), "a probe configuration must be a JSON object");
  ProbeConfig p;
  p.epochs = j.value("epochs", p.epochs);
  p.train_images = j.value("train_images", p.train_images);
  p.val_images = j.value("val_images", p.val_images);
  p.batch_size = j.value("batch_size", p.batch_size);
  p.lr = j.value("lr", p.lr);
  p.seed = j.value("seed", p.seed);
  p.validate();
  return p;
}

void ProbeConfig::validate() const {
  FUSENAS_CHECK(epochs >= 1, "probe epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(train_images >= 1 && val_images >= 1,
                "the probe needs at least one training and one validation image, got {} and {}",
                train_images, val_images);
  FUSENAS_CHECK(batch_size >= 1, "probe batch size must be at least 1, got {}", batch_size);
  FUSENAS_CHECK(std::isfinite(lr) && lr > 0, "probe lr must be positive, got {}", lr);
}

nlohmann::json Difficulty::to_json() const {
  return {{"dcn", dcn}, {"probe", probe.to_json()}, {"seconds", seconds}};
}

Difficulty Difficulty::from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object() && j.contains("dcn") && j["dcn"].is_number(),
                "a dataset entry needs a numeric \"dcn\"");
  Difficulty d;
  d.dcn = j["dcn"].get<double>();
  FUSENAS_CHECK(d.dcn >= 0 && d.dcn <= 1, "a DCN must lie in [0, 1], got {}", d.dcn);
  if (j.contains("probe")) d.probe = ProbeConfig::from_json(j["probe"]);
  d.seconds = j.value("seconds", 0.0);
  return d;
}

double probe_accuracy(data::DataLoader& train, data::DataLoader& val,
                      const space::ImageShape& shape, const ProbeConfig& probe) {
  probe.validate();
  // The probe is a point of the chain space, so it is built and trained as a trial would be.
  const space::ChainSpace chain;
  const nlohmann::json point = {
      {"layers",
       {{{"type", "conv"}, {"kernel", 3}, {"filters", 16}, {"stride", 2}},
        {{"type", "conv"}, {"kernel", 3}, {"filters", 32}, {"stride", 2}}}}};
  Generator gen(probe.seed);
  const std::shared_ptr<space::Network> net = chain.build(point, shape, gen);
  optim::SGD sgd(net->parameters(), probe.lr, 0.9, 3e-4);
  net->train();
  // A cosine to zero over all steps, as trials anneal: at a constant lr the few epochs end
  // mid-oscillation, and the score swung between 0.36 and 0.61 with the epoch count.
  const int64_t total = probe.epochs * train.batches_per_epoch();
  int64_t step = 0;
  for (int e = 0; e < probe.epochs; ++e) {
    for (int64_t b = 0; b < train.batches_per_epoch(); ++b, ++step) {
      sgd.set_lr(probe.lr * 0.5 *
                 (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total))));
      const data::Batch batch = train.next();
      sgd.zero_grad();
      cross_entropy(net->forward(batch.images), batch.labels).backward();
      sgd.step();
    }
  }
  net->eval();
  const EvalResult r = evaluate_classifier(
      val, Device::cpu(), [&](const Tensor& x) { return net->forward(x); }, [] { return false; },
      /*progress=*/false, "probe");
  return r.acc / 100.0;
}

Difficulty dataset_difficulty(const std::string& dataset, const std::string& data_dir,
                              const ProbeConfig& probe) {
  probe.validate();
  const auto start = std::chrono::steady_clock::now();
  DataSection section;
  section.dataset = dataset;
  section.data_dir = data_dir;
  section.validate();
  section = section.resolved();
  const data::Dataset d = load_dataset(dataset, section.data_dir, /*train=*/true);
  FUSENAS_CHECK(probe.train_images + probe.val_images <= d.size(),
                "the probe wants {} + {} images, but {} has {}", probe.train_images,
                probe.val_images, dataset, d.size());
  std::vector<int64_t> train_idx(static_cast<size_t>(probe.train_images));
  std::vector<int64_t> val_idx(static_cast<size_t>(probe.val_images));
  for (int64_t i = 0; i < probe.train_images; ++i) train_idx[static_cast<size_t>(i)] = i;
  for (int64_t i = 0; i < probe.val_images; ++i)
    val_idx[static_cast<size_t>(i)] = probe.train_images + i;
  data::LoaderConfig tc;
  tc.batch_size = probe.batch_size;
  tc.seed = probe.seed;
  tc.prefetch = 0;
  data::LoaderConfig vc = tc;
  vc.shuffle = false;
  data::DataLoader train(d, tc, std::move(train_idx));
  data::DataLoader val(d, vc, std::move(val_idx));
  Difficulty out;
  out.probe = probe;
  out.dcn = probe_accuracy(train, val, dataset_image_shape(dataset), probe);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace fusenas::nas::estimate::tapas
