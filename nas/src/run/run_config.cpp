// New run folders, config.json read-back, strict JSON keys, and the searches' data splits.
#include "fusenas/nas/run/run_config.h"

#include <filesystem>

#include "fusenas/engine/data/split.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_log.h"
#include "fusenas/nas/run/setup.h"

namespace fusenas::nas {
namespace {

constexpr uint64_t kValOrderStream = 0x76616cULL;  // "val"

}  // namespace

nlohmann::json read_run_config(const std::string& run_dir, const std::string& kind) {
  const std::string path = (std::filesystem::path(run_dir) / "config.json").string();
  FUSENAS_CHECK(std::filesystem::exists(path), "cannot resume {}: {} is missing", run_dir, path);
  // Another app's config has other keys; saying whose run it is beats naming the first of them.
  const std::string format = checkpoint_format(run_dir);
  const std::string prefix = "fusenas-";
  // "fusenas-<app>" or "fusenas-<app>-<task>" (a language-model run: "fusenas-train-lm").
  const std::string app =
      format.rfind(prefix, 0) == 0
          ? format.substr(prefix.size(), format.find('-', prefix.size()) - prefix.size())
          : "";
  if (!app.empty() && app != kind)
    FUSENAS_FAIL(
        "cannot resume {} with nas_{}: it is an nas_{} run (continue it with nas_{} "
        "--resume {})",
        run_dir, kind, app, app, run_dir);
  try {
    return nlohmann::json::parse(io::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: unreadable config: {}", path, e.what());
  }
}

void append_to_run_log(const std::string& run_dir, const std::string& kind,
                       const std::string& text) {
  try {
    const RunDir run(run_dir);
    RunLog(run, false, run_log_file(kind)).line(text);
  } catch (const std::exception&) {
    // The error being reported matters more than its copy in the log.
  }
}

void check_known_keys(const nlohmann::json& j, const nlohmann::json& known,
                      const std::string& what) {
  FUSENAS_CHECK(j.is_object(), "{}: expected a JSON object", what);
  for (const auto& [key, v] : j.items())
    FUSENAS_CHECK(known.contains(key), "{}: unknown key '{}'", what, key);
}

void check_values_kept(const nlohmann::json& given, const nlohmann::json& read,
                       const std::string& what) {
  for (const auto& [key, value] : given.items()) {
    if (!read.contains(key) || read[key] == value) continue;
    // json compares numbers by value (3 == 3.0); a bool is never equal to a number.
    FUSENAS_FAIL("{}: key '{}' is {} {}, which its {} field cannot hold (it would become {})", what,
                 key, value.type_name(), value.dump(), read[key].type_name(), read[key].dump());
  }
}

SearchLoaders make_search_loaders(const data::Dataset& data, const SearchDataConfig& c) {
  const DataSection& d = c.data;
  const int64_t n = d.train_subset > 0 ? std::min(d.train_subset, data.size()) : data.size();
  FUSENAS_CHECK(d.train_portion.has_value(), "a search's data needs a train portion");
  const double portion = *d.train_portion;
  const data::Split split = data::split_train_val(n, portion);
  FUSENAS_CHECK(!split.train.empty() && !split.val.empty(),
                "{} training images split by portion {} leave an empty side", n, portion);
  data::LoaderConfig train;
  train.batch_size = c.batch_size;
  train.seed = c.seed;
  train.transform.crop_padding = d.crop_padding;
  train.transform.flip = d.flip == 1;
  data::LoaderConfig val = train;
  val.seed = c.seed ^ kValOrderStream;
  if (!c.augment_val) val.transform = {};
  val.drop_last = c.full_val_batches && static_cast<int64_t>(split.val.size()) >= c.batch_size;
  data::LoaderConfig eval;
  // At the search's own batch size evaluation allocates the tensor sizes the steps already
  // cached, instead of a larger set of its own on top: a quick DARTS search peaked at 500 MB
  // instead of 630 MB with batches of 250, in the same time (docs/results.md).
  eval.batch_size = c.batch_size;
  eval.shuffle = false;
  SearchLoaders l;
  l.train = std::make_unique<data::DataLoader>(data, train, split.train);
  l.val = std::make_unique<data::DataLoader>(data, val, split.val);
  l.eval = std::make_unique<data::DataLoader>(data, eval, split.val);
  return l;
}

}  // namespace fusenas::nas
