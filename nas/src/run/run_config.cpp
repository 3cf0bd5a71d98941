// New run folders, config.json read-back, strict JSON keys, and the searches' data splits.
#include "fusenas/nas/run/run_config.h"

#include <cmath>
#include <filesystem>

#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
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
  if (format.rfind(prefix, 0) == 0 && format != prefix + kind)
    FUSENAS_FAIL(
        "cannot resume {} with nas_{}: it is an nas_{} run (continue it with nas_{} "
        "--resume {})",
        run_dir, kind, format.substr(prefix.size()), format.substr(prefix.size()), run_dir);
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

void validate_sgd(double lr, double lr_min, double momentum, double weight_decay,
                  double grad_clip) {
  FUSENAS_CHECK(std::isfinite(lr) && lr > 0, "lr must be positive, got {}", lr);
  FUSENAS_CHECK(std::isfinite(lr_min) && lr_min >= 0 && lr_min <= lr,
                "lr-min must lie in [0, lr = {}], got {}", lr, lr_min);
  FUSENAS_CHECK(momentum >= 0 && momentum < 1, "momentum must lie in [0, 1), got {}", momentum);
  FUSENAS_CHECK(std::isfinite(weight_decay) && weight_decay >= 0,
                "weight decay must be non-negative, got {}", weight_decay);
  FUSENAS_CHECK(std::isfinite(grad_clip) && grad_clip >= 0,
                "grad clip must be non-negative (0 = off), got {}", grad_clip);
}

void resolve_data_defaults(const std::string& dataset, std::string& data_dir, int64_t& crop_padding,
                           int& flip) {
  const bool fashion = dataset == "fashion-mnist";
  if (data_dir.empty()) data_dir = fashion ? data::kFashionMnistDir : data::kCifar10Dir;
  if (crop_padding < 0) crop_padding = fashion ? 0 : 4;
  if (flip < 0) flip = fashion ? 0 : 1;
}

void SearchDataConfig::validate() const {
  FUSENAS_CHECK(dataset == "fashion-mnist" || dataset == "cifar10",
                "unknown dataset '{}' (use fashion-mnist or cifar10)", dataset);
  FUSENAS_CHECK(train_subset >= 0, "train subset must be non-negative (0 = all), got {}",
                train_subset);
  FUSENAS_CHECK(train_portion > 0 && train_portion < 1,
                "train portion must lie strictly between 0 and 1, got {}", train_portion);
  const int64_t size = dataset == "fashion-mnist" ? 28 : 32;
  FUSENAS_CHECK(crop_padding >= -1 && crop_padding <= size,
                "crop padding must lie in [0, {}] pixels, got {}", size, crop_padding);
  FUSENAS_CHECK(flip >= -1 && flip <= 1, "flip must be 0, 1 or -1 (dataset default), got {}", flip);
}

SearchLoaders make_search_loaders(const data::Dataset& data, const SearchDataConfig& c) {
  const int64_t n = c.train_subset > 0 ? std::min(c.train_subset, data.size()) : data.size();
  const data::Split split = data::split_train_val(n, c.train_portion);
  FUSENAS_CHECK(!split.train.empty() && !split.val.empty(),
                "{} training images split by portion {} leave an empty side", n, c.train_portion);
  data::LoaderConfig train;
  train.batch_size = c.batch_size;
  train.seed = c.seed;
  train.transform.crop_padding = c.crop_padding;
  train.transform.flip = c.flip == 1;
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
