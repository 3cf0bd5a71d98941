// TAPAS's database of trained networks: gathering earlier searches' trial stores into one file of
// (architecture, dataset, fidelity, mean accuracy) examples with the datasets' DCNs.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "fusenas/engine/error.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/estimate/tapas.h"
#include "fusenas/nas/run/trial_db.h"
#include "fusenas/nas/space/make_space.h"

namespace fusenas::nas::estimate::tapas {

namespace fs = std::filesystem;

nlohmann::json Fidelity::to_json() const {
  return {{"epochs", epochs}, {"train_images", train_images}, {"downscale", downscale}};
}

Fidelity Fidelity::from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object(),
                "a fidelity must be a JSON object like "
                "{{\"epochs\": 3, \"train_images\": 5000, \"downscale\": 1}}");
  Fidelity f;
  try {
    f.epochs = j.at("epochs").get<int64_t>();
    f.train_images = j.at("train_images").get<int64_t>();
    f.downscale = j.value("downscale", int64_t{1});
  } catch (const nlohmann::json::exception&) {
    FUSENAS_FAIL("a fidelity needs integer \"epochs\" and \"train_images\", got {}", j.dump());
  }
  FUSENAS_CHECK(f.epochs >= 1 && f.train_images >= 1 && f.downscale >= 1,
                "a fidelity needs epochs, train_images and downscale of at least 1, got {}",
                j.dump());
  return f;
}

namespace {

nlohmann::json example_to_json(const Example& e) {
  return {{"space", e.space},
          {"space_options", e.space_options},
          {"arch", e.arch},
          {"dataset", e.dataset},
          {"fidelity", e.fidelity.to_json()},
          {"score", e.score},
          {"trials", e.trials},
          {"sources", e.sources}};
}

Example example_from_json(const nlohmann::json& j) {
  FUSENAS_CHECK(j.is_object(), "an example must be a JSON object");
  Example e;
  try {
    e.space = j.at("space").get<std::string>();
    e.space_options = j.value("space_options", nlohmann::json::object());
    e.arch = j.at("arch");
    e.dataset = j.at("dataset").get<std::string>();
    e.fidelity = Fidelity::from_json(j.at("fidelity"));
    e.score = j.at("score").get<double>();
    e.trials = j.value("trials", int64_t{1});
    e.sources = j.value("sources", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& ex) {
    FUSENAS_FAIL("an example lacks a field or has one of the wrong type ({})", ex.what());
  }
  FUSENAS_CHECK(std::isfinite(e.score) && e.score >= 0 && e.score <= 100,
                "an example's score must be an accuracy in [0, 100], got {}", e.score);
  FUSENAS_CHECK(e.trials >= 1, "an example's trial count must be at least 1, got {}", e.trials);
  return e;
}

// One key per distinct (space, options, arch, dataset, fidelity); nlohmann's objects keep their
// keys sorted, so equal JSON dumps equally.
std::string example_key(const Example& e) {
  return nlohmann::json{{"s", e.space},
                        {"o", e.space_options},
                        {"a", e.arch},
                        {"d", e.dataset},
                        {"f", e.fidelity.to_json()}}
      .dump();
}

// Training-set sizes, so a fidelity's image count needs no dataset on disk.
int64_t training_set_size(const std::string& dataset) {
  return dataset == "cifar10" ? 50000 : 60000;
}

nlohmann::json read_json_file(const fs::path& path) {
  const std::string text = io::read_file(path.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{} is not valid JSON ({})", path.string(), e.what());
  }
}

// The canonical point: the chain space's JSON form drops nothing a network needs, and two
// spellings of one chain (key order, kernel on an identity) become one.
nlohmann::json canonical_arch(const std::string& space, const nlohmann::json& options,
                              const nlohmann::json& candidate) {
  const std::shared_ptr<space::ArchSpace> s = space::make_arch_space(space, options);
  s->validate(candidate);
  if (space == "chain")
    return space::to_json(
        space::chain_arch_from_json(candidate, space::ChainOptions::from_json(options)));
  return candidate;
}

}  // namespace

nlohmann::json PredictorData::to_json() const {
  nlohmann::json ds = nlohmann::json::object();
  for (const auto& [name, d] : datasets) ds[name] = d.to_json();
  nlohmann::json ex = nlohmann::json::array();
  for (const Example& e : examples) ex.push_back(example_to_json(e));
  return {{"format", kFormat},
          {"version", kVersion},
          {"datasets", ds},
          {"runs", runs},
          {"examples", ex}};
}

PredictorData PredictorData::from_json(const nlohmann::json& j, const std::string& what) {
  FUSENAS_CHECK(j.is_object() && j.value("format", "") == kFormat,
                "{} is not a predictor data file (no \"format\": \"{}\")", what, kFormat);
  FUSENAS_CHECK(j.value("version", 0) == kVersion, "{} has version {}, this build reads {}", what,
                j.value("version", 0), kVersion);
  PredictorData d;
  try {
    for (const auto& [name, v] : j.at("datasets").items())
      d.datasets[name] = Difficulty::from_json(v);
    d.runs = j.value("runs", std::vector<std::string>{});
    const nlohmann::json& ex = j.at("examples");
    FUSENAS_CHECK(ex.is_array(), "\"examples\" must be an array");
    for (size_t i = 0; i < ex.size(); ++i) {
      try {
        d.examples.push_back(example_from_json(ex[i]));
      } catch (const Error& e) {
        FUSENAS_FAIL("example {}: {}", i, e.what());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: {}", what, e.what());
  } catch (const Error& e) {
    FUSENAS_FAIL("{}: {}", what, e.what());
  }
  return d;
}

void PredictorData::save(const std::string& path) const {
  io::write_file_atomic(path, to_json().dump(1) + "\n");
}

PredictorData PredictorData::load(const std::string& path) {
  FUSENAS_CHECK(fs::is_regular_file(path), "predictor data file {} does not exist", path);
  return from_json(read_json_file(path), path);
}

PredictorData gather(const std::vector<std::string>& run_dirs, const GatherOptions& options,
                     PredictorData existing, GatherReport* report) {
  GatherReport local;
  GatherReport& rep = report ? *report : local;
  PredictorData out = std::move(existing);
  std::map<std::string, size_t> index;
  std::set<std::string> seen;
  for (size_t i = 0; i < out.examples.size(); ++i) {
    index[example_key(out.examples[i])] = i;
    seen.insert(out.examples[i].sources.begin(), out.examples[i].sources.end());
  }
  std::map<std::string, std::string> data_dirs;  // dataset -> folder of the first run naming it
  for (const std::string& dir : run_dirs) {
    FUSENAS_CHECK(fs::is_directory(dir), "run folder {} does not exist", dir);
    const fs::path run = fs::canonical(dir);
    const fs::path config_path = run / "config.json", trials_path = run / TrialDb::kFile;
    FUSENAS_CHECK(fs::is_regular_file(config_path),
                  "{} has no config.json: gather takes nas_search run folders", dir);
    FUSENAS_CHECK(fs::is_regular_file(trials_path),
                  "{} has no {}: gather takes nas_search run folders", dir, TrialDb::kFile);
    const nlohmann::json config = read_json_file(config_path);
    const std::string space = config.value("space", "");
    const nlohmann::json space_options = config.value("space_options", nlohmann::json::object());
    const std::string dataset = config.value("dataset", "fashion-mnist");
    const double portion = config.value("train_portion", 0.5);
    const int64_t config_subset = config.value("train_subset", int64_t{0});
    const TrialDb db = TrialDb::open(trials_path.string());
    const std::vector<Trial> trials = db.trials();
    rep.trials += static_cast<int64_t>(trials.size());
    if (!supported_space(space)) {
      rep.skipped["space other than chain or multibranch"] += static_cast<int64_t>(trials.size());
      rep.notes.push_back(
          fmt::format("{}: the '{}' space is not a layer sequence; skipped", dir, space));
      continue;
    }
    int64_t kept_here = 0;
    for (const Trial& t : trials) {
      auto skip = [&](const char* why) { ++rep.skipped[why]; };
      if (t.status != TrialStatus::kDone || !t.score) {
        skip("not done");
        continue;
      }
      const nlohmann::json& fid = t.fidelity.is_object() ? t.fidelity : nlohmann::json::object();
      const int64_t epochs = fid.value("epochs", config.value("epochs", int64_t{0}));
      if (fid.value("estimator", "full") == "one-shot" || epochs < 1) {
        skip("one-shot score (nothing trained)");
        continue;
      }
      // A narrower network than the architecture says (the model_scale knob) is another
      // network; the features describe the architecture as written.
      if (fid.value("model_scale", config.value("model_scale", 1.0)) != 1.0) {
        skip("model scale other than 1");
        continue;
      }
      if (fid.contains("morph")) {
        skip("morphism child (inherited weights)");
        continue;
      }
      const std::string source = fmt::format("{}#{}", run.string(), t.id);
      if (seen.count(source)) {
        skip("gathered before");
        continue;
      }
      Example e;
      e.space = space;
      e.space_options = space_options;
      e.dataset = dataset;
      try {
        e.arch = canonical_arch(space, space_options, t.candidate);
      } catch (const Error&) {
        skip("candidate not a point of the run's space");
        continue;
      }
      const int64_t subset = fid.value("train_subset", config_subset);
      const int64_t size = training_set_size(dataset);
      const int64_t n = subset > 0 ? std::min(subset, size) : size;
      e.fidelity.epochs = epochs;
      e.fidelity.train_images = static_cast<int64_t>(std::floor(portion * static_cast<double>(n)));
      e.fidelity.downscale = fid.value("downscale", int64_t{1});
      e.score = *t.score;
      e.sources = {source};
      seen.insert(source);
      const std::string key = example_key(e);
      const auto it = index.find(key);
      if (it == index.end()) {
        index[key] = out.examples.size();
        out.examples.push_back(std::move(e));
      } else {
        Example& had = out.examples[it->second];
        had.score = (had.score * static_cast<double>(had.trials) + e.score) /
                    static_cast<double>(had.trials + 1);
        ++had.trials;
        had.sources.push_back(source);
      }
      ++kept_here;
      ++rep.kept;
    }
    if (kept_here > 0) {
      if (std::find(out.runs.begin(), out.runs.end(), run.string()) == out.runs.end())
        out.runs.push_back(run.string());
      if (!data_dirs.count(dataset))
        data_dirs[dataset] =
            options.data_dir.empty() ? config.value("data_dir", std::string()) : options.data_dir;
    }
  }
  FUSENAS_CHECK(!out.examples.empty(),
                "none of the {} run folders holds a done, trained trial of the chain or "
                "multibranch space",
                run_dirs.size());
  // The DCN, once per dataset (and again only when the probe changed).
  std::set<std::string> needed;
  for (const Example& e : out.examples) needed.insert(e.dataset);
  for (const std::string& name : needed) {
    const auto had = out.datasets.find(name);
    if (had != out.datasets.end() && had->second.probe == options.probe) continue;
    const std::string dir = data_dirs.count(name) ? data_dirs[name] : options.data_dir;
    out.datasets[name] = options.difficulty ? options.difficulty(name, dir)
                                            : dataset_difficulty(name, dir, options.probe);
  }
  return out;
}

}  // namespace fusenas::nas::estimate::tapas
