// TrainConfig: the architecture it names, its defaults, validation and the config.json form.
#include "fusenas/nas/train/train_config.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/zoph_le_space.h"
#include "fusenas/nas/train/arch_file.h"

namespace fusenas::nas {
namespace {

constexpr int64_t kGenotypeChannels = 16;  // DARTS's search width, nas_train's default C
constexpr int kGenotypeCells = 8;
constexpr double kGenotypeDropPath = 0.2;  // DARTS train.py
// The widest stem or layer the chain, multibranch and zoph-le options allow.
constexpr int64_t kMaxSpaceWidth = 4096;

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

// A chain, multibranch or zoph-le point checked against its space, both in their canonical JSON
// forms, and the searched width.
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
    if (c.space == "zoph-le") {
      const space::ZophLeOptions o = space::ZophLeOptions::from_json(options);
      c.space_options = o.to_json();
      c.space_arch = space::ZophLeSpace::point(space::ZophLeSpace(o).arch(c.space_arch));
      if (c.init_channels == 0)
        c.init_channels = *std::max_element(o.filters.begin(), o.filters.end());
      return;
    }
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
    FUSENAS_CHECK(c.space == "chain" || c.space == "multibranch" || c.space == "zoph-le",
                  "unknown space '{}' (use darts-cell, chain, multibranch or zoph-le)",
                  c.space.substr(0, 40));
    FUSENAS_CHECK(!c.space_arch.is_null(), "a {} network needs its architecture file", c.space);
    check_space_point(c, source);
  }
  return c;
}

}  // namespace

// config.json's keys (docs/formats.md), flat: the sections' and nas_train's own; the resolved
// cell is saved as "genotype". Outside the anonymous namespace, so that keys_to_json finds it by
// argument-dependent lookup.
template <SectionRef<TrainConfig> Self, typename F>
void for_each_key(Self& c, F&& f) {
  f("arch", c.arch);
  f("genotype_file", c.genotype_file);
  f("arch_file", c.arch_file);
  f("space", c.space);
  // Any JSON: validate() and resolved() check them as the space's options and point.
  f("space_options", c.space_options);
  f("genotype", c.genotype_text);
  f("space_arch", c.space_arch);
  f("init_channels", c.init_channels);
  f("layers", c.layers);
  for_each_key(c.data, f);
  f("test_subset", c.test_subset);
  f("epochs", c.epochs);
  f("batch_size", c.batch_size);
  for_each_key(c.sgd, f);
  f("cutout", c.cutout);
  f("auxiliary", c.auxiliary);
  f("drop_path", c.drop_path);
  f("seed", c.seed);
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
  c.data = c.data.resolved();
  return c;
}

void TrainConfig::validate() const {
  data.validate();
  FUSENAS_CHECK(init_channels >= 0, "init channels must be at least 1 (0 = the default), got {}",
                init_channels);
  FUSENAS_CHECK(layers == 0 || layers >= 3, "layers must be at least 3, got {}", layers);
  FUSENAS_CHECK(epochs >= 1, "epochs must be at least 1, got {}", epochs);
  FUSENAS_CHECK(batch_size >= 1, "batch size must be at least 1, got {}", batch_size);
  sgd.validate();
  FUSENAS_CHECK(cutout >= 0 && cutout <= image_size(), "cutout must lie in [0, {}] pixels, got {}",
                image_size(), cutout);
  FUSENAS_CHECK(std::isfinite(auxiliary) && auxiliary >= 0,
                "auxiliary weight must be non-negative (0 = off), got {}", auxiliary);
  FUSENAS_CHECK(drop_path == -1 || (drop_path >= 0 && drop_path < 1),
                "drop-path must lie in [0, 1), got {}", drop_path);
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
  return keys_to_json(c);
}

TrainConfig train_config_from_json(const nlohmann::json& j) {
  return config_from_json_strict<TrainConfig>(j, "training config");
}

}  // namespace fusenas::nas
