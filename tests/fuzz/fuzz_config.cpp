// Fuzz target: a run folder's config.json (read_run_config), read back by each app's from_json
// and checked as --resume does (checked_config): DARTS, nas_train and ENAS.
#include "fusenas/nas/darts/search_config.h"
#include "fusenas/nas/enas/search_config.h"
#include "fusenas/nas/run/run_config.h"
#include "fusenas/nas/train/train_config.h"
#include "fuzz_files.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  nas::TrainConfig train;
  train.genotype_text = nas::builtin_genotype("DARTS_V2").to_text();
  return {nas::to_json(nas::darts_preset("quick")).dump(1),
          nas::to_json(nas::DartsConfig{}).dump(),
          nas::to_json(nas::TrainConfig{}).dump(1),
          nas::to_json(train).dump(),
          nas::enas::to_json(nas::enas::enas_preset("quick", "micro")).dump(1),
          nas::enas::to_json(nas::enas::enas_preset("paper", "macro")).dump()};
}

std::vector<std::string> dictionary() {
  std::vector<std::string> d = {"\"fashion-mnist\"",
                                "\"cifar10\"",
                                "\"quick\"",
                                "\"paper\"",
                                "\"micro\"",
                                "\"macro\"",
                                "null",
                                "true",
                                "[]",
                                "{}",
                                "\"\"",
                                "-1",
                                "1e308",
                                "2147483648",
                                "\"DARTS_V1\"",
                                "\"ENAS\""};
  for (const nlohmann::json& j :
       {nas::to_json(nas::DartsConfig{}), nas::to_json(nas::TrainConfig{}),
        nas::enas::to_json(nas::enas::EnasConfig{})}) {
    for (const auto& [key, value] : j.items()) d.push_back("\"" + key + "\": ");
  }
  return d;
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  namespace nas = fusenas::nas;
  const std::string dir = fresh_dir("config");
  write_bytes(dir + "/config.json", as_view(data, size));
  nlohmann::json j;
  run_parser([&] { j = nas::read_run_config(dir, "darts"); });
  if (j.is_discarded() || j.is_null()) return 0;
  run_parser([&] { nas::checked_config(nas::darts_config_from_json(j)); });
  run_parser([&] { nas::checked_config(nas::train_config_from_json(j)); });
  run_parser([&] { nas::checked_config(nas::enas::enas_config_from_json(j)); });
  return 0;
}
