// TrainConfig: the architecture it names, its defaults, validation and the config.json form.
#include "fusenas/nas/train/train_config.h"

#include <cmath>

#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/error.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/train/arch_file.h"

namespace fusenas::nas {
namespace {

constexpr int64_t kGenotypeChannels = 16;  // DARTS's search width, nas_train's default C
constexpr int kGenotypeCells = 8;
constexpr double kGenotypeDropPath = 0.2;  // DARTS train.py
// The widest stem or layer the chain and multibranch options allow.
constexpr int64_t kMaxSpaceWidth = 4096;

bool is_fashion(const std::string& dataset) {
  return dataset == "fashion-mnist";
}

bool is_genotype_space(const std::string& space) {
  return space.empty() || space == "darts-cell";
}

Genotype genotype_of(const ArchFile& f, const std::string& path) {
  FUSENAS_CHECK(f.space == "darts-cell", "{} holds a {} architecture, not a genotype", path,
                f.space);
  try {
    return Genotype::from_json(f.arch.dump());
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
}

// A chain or multibranch point checked against its space, both in their canonical JSON forms, and
// the searched width.
void check_space_point(TrainConfig& c, const std::string& options_source) {
  const std::string where = c.arch_file.empty() ? "the architecture" : c.arch_file;
  try {
    if (c.space == "chain") {
      const space::ChainOptions o = space::ChainOptions::from_json(c.space_options);
      c.space_options = o.to_json();
      c.space_arch = space::to_json(space::ChainSpace(o).arch(c.space_arch));
      if (c.init_channels == 0) c.init_channels = o.stem_channels;
      return;
    }
    nlohmann::json options = c.space_options;
    // A bare point's layer count is its own: no need to say it twice.
    const auto layers = c.space_arch.find("layers");
    if (!options.contains("layers") && c.space_arch.is_object() && layers != c.space_arch.end() &&
        layers->is_array() && !layers->empty() && layers->size() <= 64)
      options["layers"] = layers->size();
    const space::MultiBranchOptions o = space::MultiBranchOptions::from_json(options);
    c.space_options = o.to_json();
    c.space_arch = space::MultiBranchSpace::point(space::MultiBranchSpace(o).arch(c.space_arch));
    if (c.init_channels == 0) c.init_channels = o.channels;
  } catch (const Error& e) {
    throw Error(fmt::format("{} (read with {}): {}", where, options_source, e.what()));
  }
}

// The config with its architecture read: the space, and genotype_text or space_arch with the
// complete space_options. Reads the files only while neither is set.
TrainConfig with_architecture(const TrainConfig& in) {
  TrainConfig c = in;
  std::string source = "the options given";
  if (!c.arch_file.empty() && c.genotype_text.empty() && c.space_arch.is_null()) {
    const ArchFile f = read_arch_file(c.arch_file, c.space, c.space_options);
    c.space = f.space;
    c.space_options = f.space_options;
    source = f.options_source;
    if (f.space == "darts-cell") {
      c.genotype_text = genotype_of(f, c.arch_file).to_text();
    } else {
      c.space_arch = f.arch;
    }
  }
  if (is_genotype_space(c.space)) {
    c.genotype_text = c.genotype().to_text();
  } else {
    FUSENAS_CHECK(c.space == "chain" || c.space == "multibranch",
                  "unknown space '{}' (use darts-cell, chain or multibranch)",
                  c.space.substr(0, 40));
    FUSENAS_CHECK(!c.space_arch.is_null(), "a {} network needs its architecture file", c.space);
    check_space_point(c, source);
  }
  return c;
}

}  // namespace

int64_t TrainConfig::in_channels() const {
  return is_fashion(dataset) ? 1 : 3;
}

int64_t TrainConfig::image_size() const {
  return is_fashion(dataset) ? 28 : 32;
}

bool TrainConfig::is_genotype_network() const {
  if (!space.empty() || arch_file.empty() || !genotype_text.empty() || !space_arch.is_null())
    return is_genotype_space(space);
  return read_arch_file(arch_file, space, space_options).space == "darts-cell";
}

Genotype TrainConfig::genotype() const {
  if (!genotype_text.empty()) return Genotype::parse_text(genotype_text);
  FUSENAS_CHECK(is_genotype_space(space), "a {} architecture is not a genotype", space);
  if (!arch_file.empty())
    return genotype_of(read_arch_file(arch_file, space, space_options), arch_file);
  if (!genotype_file.empty()) return load_genotype_file(genotype_file);
  return builtin_genotype(arch);
}

TrainConfig TrainConfig::resolved() const {
  TrainConfig c = with_architecture(*this);
  if (!c.arch_file.empty()) c.arch.clear();  // the file names the architecture, not a cell name
  if (c.is_genotype_network()) {
    if (c.init_channels == 0) c.init_channels = kGenotypeChannels;
    if (c.layers == 0) c.layers = kGenotypeCells;
    if (c.drop_path < 0) c.drop_path = kGenotypeDropPath;
  } else if (c.drop_path < 0) {
    c.drop_path = 0;
  }
  if (c.data_dir.empty())
    c.data_dir = is_fashion(dataset) ? data::kFashionMnistDir : data::kCifar10Dir;
  // CIFAR-10 keeps DARTS's crop (padding 4) and flip. Fashion-MNIST's garments are centred and
  // aligned, and in short runs augmentation costs more than it gives: one epoch of the acceptance
  // network reached 88.3% test accuracy without, 85.7% with flips and 82.9% with flips and crops
  // (docs/results.md). Long runs can turn them on with --crop-padding 2 --flip.
  if (c.crop_padding < 0) c.crop_padding = is_fashion(dataset) ? 0 : 4;
  if (c.flip < 0) c.flip = is_fashion(dataset) ? 0 : 1;
  return c;
}

void TrainConfig::validate() const {
  FUSENAS_CHECK(dataset == "fashion-mnist" || dataset == "cifar10",
                "unknown dataset '{}' (use fashion-mnist or cifar10)", dataset);
  FUSENAS_CHECK(init_channels >= 0, "init channels must be at least 1 (0 = the default), got {}",
                init_channels);
  FUSENAS_CHECK(layers == 0 || layers >= 3, "layers must be at least 3, got {}", layers);
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 1, "batch size must be at least 1, got {}", batch_size);
  validate_sgd(lr, lr_min, momentum, weight_decay, grad_clip);
  FUSENAS_CHECK(cutout >= 0 && cutout <= image_size(), "cutout must lie in [0, {}] pixels, got {}",
                image_size(), cutout);
  FUSENAS_CHECK(std::isfinite(auxiliary) && auxiliary >= 0,
                "auxiliary weight must be non-negative (0 = off), got {}", auxiliary);
  FUSENAS_CHECK(drop_path == -1 || (drop_path >= 0 && drop_path < 1),
                "drop-path must lie in [0, 1), got {}", drop_path);
  FUSENAS_CHECK(crop_padding >= -1 && crop_padding <= image_size(),
                "crop padding must lie in [0, {}] pixels, got {}", image_size(), crop_padding);
  FUSENAS_CHECK(flip >= -1 && flip <= 1, "flip must be 0, 1 or -1 (dataset default), got {}", flip);
  FUSENAS_CHECK(train_subset >= 0, "train subset must be non-negative (0 = all), got {}",
                train_subset);
  FUSENAS_CHECK(test_subset >= 0, "test subset must be non-negative (0 = all), got {}",
                test_subset);
  FUSENAS_CHECK(genotype_file.empty() || arch_file.empty(),
                "a genotype file and an architecture file cannot both name the architecture");
  FUSENAS_CHECK(space_options.is_object(), "space options must be a JSON object, got a {}",
                space_options.type_name());
  FUSENAS_CHECK(space_arch.is_null() || !space.empty(),
                "a space architecture (space_arch) needs its space");
  const TrainConfig a = with_architecture(*this);
  if (a.is_genotype_network()) {
    a.genotype().validate();
    FUSENAS_CHECK(a.space_options.empty(),
                  "space options do not apply to a genotype, which trains in nas_train's "
                  "evaluation network (sized by init channels and layers)");
    return;
  }
  const std::string& s = a.space;
  FUSENAS_CHECK(layers == 0,
                "layers (cells) apply only to genotype networks; a {} architecture has its own "
                "depth, got {}",
                s, layers);
  FUSENAS_CHECK(auxiliary == 0,
                "the auxiliary head exists only in genotype networks, not in a {} network (got "
                "weight {})",
                s, auxiliary);
  FUSENAS_CHECK(drop_path <= 0,
                "drop-path applies only to genotype networks (cells with paths to drop), not to a "
                "{} network (got {})",
                s, drop_path);
  FUSENAS_CHECK(a.init_channels <= kMaxSpaceWidth,
                "init channels of a {} network must lie in [1, {}], got {}", s, kMaxSpaceWidth,
                a.init_channels);
  FUSENAS_CHECK(s != "multibranch" || a.init_channels % 2 == 0,
                "init channels of a multibranch network must be even (FactorizedReduce halves "
                "them), got {}",
                a.init_channels);
}

nlohmann::json to_json(const TrainConfig& c) {
  return {{"arch", c.arch},
          {"genotype_file", c.genotype_file},
          {"arch_file", c.arch_file},
          {"space", c.space},
          {"space_options", c.space_options},
          {"genotype", c.genotype_text},
          {"space_arch", c.space_arch},
          {"init_channels", c.init_channels},
          {"layers", c.layers},
          {"dataset", c.dataset},
          {"data_dir", c.data_dir},
          {"train_subset", c.train_subset},
          {"test_subset", c.test_subset},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"lr", c.lr},
          {"lr_min", c.lr_min},
          {"momentum", c.momentum},
          {"weight_decay", c.weight_decay},
          {"grad_clip", c.grad_clip},
          {"cutout", c.cutout},
          {"auxiliary", c.auxiliary},
          {"drop_path", c.drop_path},
          {"crop_padding", c.crop_padding},
          {"flip", c.flip},
          {"seed", c.seed}};
}

TrainConfig train_config_from_json(const nlohmann::json& j) {
  check_known_keys(j, to_json(TrainConfig{}), "training config");
  TrainConfig c;
  try {
    c.arch = j.value("arch", c.arch);
    c.genotype_file = j.value("genotype_file", c.genotype_file);
    c.arch_file = j.value("arch_file", c.arch_file);
    c.space = j.value("space", c.space);
    // Any JSON: validate() and resolved() check them as the space's options and point.
    if (j.contains("space_options")) c.space_options = j["space_options"];
    if (j.contains("space_arch")) c.space_arch = j["space_arch"];
    c.genotype_text = j.value("genotype", c.genotype_text);
    c.init_channels = j.value("init_channels", c.init_channels);
    c.layers = j.value("layers", c.layers);
    c.dataset = j.value("dataset", c.dataset);
    c.data_dir = j.value("data_dir", c.data_dir);
    c.train_subset = j.value("train_subset", c.train_subset);
    c.test_subset = j.value("test_subset", c.test_subset);
    c.epochs = j.value("epochs", c.epochs);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.lr = j.value("lr", c.lr);
    c.lr_min = j.value("lr_min", c.lr_min);
    c.momentum = j.value("momentum", c.momentum);
    c.weight_decay = j.value("weight_decay", c.weight_decay);
    c.grad_clip = j.value("grad_clip", c.grad_clip);
    c.cutout = j.value("cutout", c.cutout);
    c.auxiliary = j.value("auxiliary", c.auxiliary);
    c.drop_path = j.value("drop_path", c.drop_path);
    c.crop_padding = j.value("crop_padding", c.crop_padding);
    c.flip = j.value("flip", c.flip);
    c.seed = j.value("seed", c.seed);
  } catch (const nlohmann::json::exception& e) {
    const nlohmann::json defaults = to_json(TrainConfig{});
    for (const auto& [key, value] : j.items()) {
      if (key == "space_options" || key == "space_arch") continue;
      const bool both_numbers = value.is_number() && defaults[key].is_number();
      if (!both_numbers && value.type() != defaults[key].type())
        FUSENAS_FAIL("training config: key '{}' is {} {}, but must be a {}", key, value.type_name(),
                     value.dump(), defaults[key].type_name());
    }
    FUSENAS_FAIL("training config: {}", e.what());
  }
  check_values_kept(j, to_json(c), "training config");
  return c;
}

}  // namespace fusenas::nas
