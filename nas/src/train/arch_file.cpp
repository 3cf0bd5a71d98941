// Architecture files for nas_train: incumbents of nas_search and bare space points, the search's
// space options beside them, and the incumbent's hyperparameters.
#include "fusenas/nas/train/arch_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "fusenas/engine/error.h"
#include "fusenas/nas/genotype.h"
#include "fusenas/nas/space/make_space.h"
#include "space/json_read.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using space::detail::describe;
using space::detail::JsonReader;

// Incumbents and points are a few kilobytes; the limit keeps a wrong file from being read whole.
constexpr size_t kMaxArchFileBytes = 1 << 20;

nlohmann::json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  FUSENAS_CHECK(in.good(), "cannot open {} {}", what, path);
  std::string text(kMaxArchFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  FUSENAS_CHECK(!in.bad(), "cannot read {} {}", what, path);
  text.resize(static_cast<size_t>(in.gcount()));
  FUSENAS_CHECK(text.size() <= kMaxArchFileBytes, "{} {} is larger than the limit of {} bytes",
                what, path, kMaxArchFileBytes);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: not JSON: {}", path, e.what()));
  }
}

void check_space_name(const std::string& name, const std::string& where) {
  const auto& names = space::arch_space_names();
  FUSENAS_CHECK(std::find(names.begin(), names.end(), name) != names.end(),
                "{}: unknown space '{}' (known: {})", where, name.substr(0, 40),
                fmt::join(names, ", "));
}

// Whether the file's first non-blank character opens a JSON object (false when unreadable).
bool starts_with_brace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = ' ';
  while (in.get(c))
    if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
  return false;
}

// The search's space options: config.json beside the incumbent, when it is there and names them.
void read_search_options(const std::string& incumbent, ArchFile& f) {
  const fs::path dir = fs::path(incumbent).parent_path();
  const std::string path = ((dir.empty() ? fs::path(".") : dir) / "config.json").string();
  f.options_source = "the space's default options; no search config.json beside it";
  if (!fs::exists(path)) return;
  const nlohmann::json config = read_json_file(path, "search config");
  const JsonReader r(path, "the file");
  if (!config.is_object()) r.fail("", fmt::format("must be an object, got {}", describe(config)));
  if (config.contains("space")) {
    const std::string searched = r.string(config["space"], "space");
    FUSENAS_CHECK(searched == f.space,
                  "{} is a search over the '{}' space, but {} holds a '{}' "
                  "architecture",
                  path, searched.substr(0, 40), incumbent, f.space);
  }
  if (!config.contains("space_options")) {
    f.options_source = "the space's default options; " + path + " names none";
    return;
  }
  if (!config["space_options"].is_object())
    r.fail("space_options",
           fmt::format("must be an object, got {}", describe(config["space_options"])));
  f.space_options = config["space_options"];
  f.options_source = "the options in " + path;
}

}  // namespace

ArchFile read_arch_file(const std::string& path, const std::string& space,
                        const nlohmann::json& options) {
  FUSENAS_CHECK(options.is_object(), "space options must be a JSON object, got {}",
                describe(options));
  if (!space.empty()) check_space_name(space, "the space of " + path);
  ArchFile f;
  // A genotype may also be in DARTS text form, which is no JSON.
  if (space == "darts-cell") {
    if (std::ifstream(path).good() && !starts_with_brace(path)) {
      f.space = space;
      f.arch = nlohmann::json::parse(load_genotype_file(path).to_json());
      f.space_options = options;
      return f;
    }
  }
  const nlohmann::json j = read_json_file(path, "architecture file");
  const JsonReader r(path, "the file");
  if (!j.is_object()) r.fail("", fmt::format("must be a JSON object, got {}", describe(j)));
  if (j.contains("space")) {
    f.space = r.string(j["space"], "space");
    check_space_name(f.space, path);
    FUSENAS_CHECK(space.empty() || space == f.space,
                  "{} is an incumbent of the '{}' space, but the space given is '{}'", path,
                  f.space, space);
    FUSENAS_CHECK(j.contains("arch"), "{}: an incumbent (it has a \"space\") needs an \"arch\"",
                  path);
    f.arch = j["arch"];
    if (j.contains("trial")) f.trial = r.integer(j["trial"], "trial", 0, INT64_MAX);
    if (j.contains("hp") && !j["hp"].is_null()) {
      r.object(j["hp"], "hp", {"batch_size", "lr", "momentum", "weight_decay"});
      f.hp = j["hp"];
      (void)r.integer(f.hp["batch_size"], "hp.batch_size", 1, INT64_MAX);
      for (const char* key : {"lr", "momentum", "weight_decay"})
        (void)r.number(f.hp[key], std::string("hp.") + key, 0, 1e9);
    }
    if (f.space != "darts-cell") read_search_options(path, f);
  } else {
    FUSENAS_CHECK(!space.empty(),
                  "{} is not a nas_search incumbent (it has no \"space\" key); name the space of "
                  "its point (--space chain, multibranch, zoph-le or darts-cell)",
                  path);
    f.space = space;
    f.arch = j;
    f.options_source = "the space's default options";
  }
  f.space_options.update(options);
  if (!options.empty()) f.options_source += ", with the given keys over them";
  return f;
}

std::string adopt_incumbent_hyperparameters(TrainConfig& config,
                                            const std::set<std::string>& keep) {
  if (config.arch_file.empty()) return {};
  const ArchFile f = read_arch_file(config.arch_file, config.space, config.space_options);
  if (f.hp.is_null()) return {};
  std::vector<std::string> copied;
  if (!keep.contains("batch_size")) {
    config.batch_size = f.hp["batch_size"].get<int64_t>();
    copied.push_back(fmt::format("batch size {}", config.batch_size));
  }
  const auto adopt = [&](const char* key, const char* name, double& field) {
    if (keep.contains(key)) return;
    field = f.hp[key].get<double>();
    copied.push_back(fmt::format("{} {}", name, field));
  };
  adopt("lr", "lr", config.sgd.lr);
  adopt("momentum", "momentum", config.sgd.momentum);
  adopt("weight_decay", "weight decay", config.sgd.weight_decay);
  return fmt::format("{}", fmt::join(copied, ", "));
}

}  // namespace fusenas::nas
