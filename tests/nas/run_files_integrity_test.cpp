// Run files that were damaged or edited fail with a message naming the file and the key: tensor
// checksums catch flipped bytes and swapped tensors, byte counts past a file's end are refused
// without padding it, and config values of the wrong type or that an int field cannot hold are
// named instead of cast.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"
#include "fusenas/nas/darts/search_config.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_dir.h"
#include "fusenas/nas/train/train_config.h"
#include "support/expect.h"
#include "support/run_fixtures.h"

namespace fusenas::nas {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

using testing::message_of;

std::string only_tensor_file(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") return e.path().string();
  return "";
}

// The offset of the tensor data section of a safetensors file.
size_t data_start(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return 8 + n;
}

TEST(TensorChecksums, AFlippedDataByteFailsTheLoadNamingTheTensor) {
  TempDir tmp;
  CheckpointWriter w;
  w.add_tensor("a", from_vector<float>({1, 2, 3, 4}, {4}));
  w.add_tensor("b", from_vector<float>({5, 6, 7, 8}, {4}));
  w.save(tmp.sub("run"));
  const std::string path = only_tensor_file(tmp.sub("run"));
  std::string bytes = io::read_file(path);
  bytes[data_start(bytes) + 5] ^= 0x10;  // a bit of tensor "a" (its second float)
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const std::string msg = message_of([&] { CheckpointReader::load(tmp.sub("run")); });
  EXPECT_NE(msg.find("tensor 'a' fails its CRC32 check"), std::string::npos) << msg;
}

TEST(TensorChecksums, SwappedTensorsOfTheSameShapeFailTheLoad) {
  TempDir tmp;
  CheckpointWriter w;
  w.add_tensor("a", from_vector<float>({1, 2}, {2}));
  w.add_tensor("b", from_vector<float>({3, 4}, {2}));
  w.save(tmp.sub("run"));
  const std::string path = only_tensor_file(tmp.sub("run"));
  std::string bytes = io::read_file(path);
  const size_t start = data_start(bytes);
  std::swap_ranges(bytes.begin() + static_cast<long>(start),
                   bytes.begin() + static_cast<long>(start + 8),
                   bytes.begin() + static_cast<long>(start + 8));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_NE(message_of([&] { io::load_safetensors(path); }).find("fails its CRC32 check"),
            std::string::npos);
  // Intact files load, and the checksums stay out of the metadata callers see.
  io::save_safetensors(path, {{"x", ones({3})}}, {{"note", "kept"}});
  const io::SafetensorsFile f = io::load_safetensors(path);
  EXPECT_EQ(f.metadata.size(), 1u);
  EXPECT_EQ(f.metadata.at("note"), "kept");
}

TEST(RunDirIntegrity, AByteCountPastTheEndIsRefusedWithoutPadding) {
  TempDir tmp;
  const RunDir run(tmp.sub("run"));
  run.append_jsonl("metrics.jsonl", {{"epoch", 1}});
  const uint64_t size = run.size_of("metrics.jsonl");
  const std::string msg = message_of([&] { run.truncate_to("metrics.jsonl", size + 1000); });
  EXPECT_NE(msg.find("fewer than the"), std::string::npos) << msg;
  EXPECT_EQ(run.size_of("metrics.jsonl"), size);
}

TEST(JsonFields, CheckpointFieldsNameTheKeyAndRefuseSilentCasts) {
  const nlohmann::json j = {{"epoch", "three"}, {"batch", 1.5}, {"big", 4294967296LL},
                            {"flag", 1},        {"ok", 7},      {"neg", -1}};
  EXPECT_NE(message_of([&] { json_field<int>(j, "epoch"); }).find("key 'epoch' must be an integer"),
            std::string::npos);
  EXPECT_NE(message_of([&] { json_field<int64_t>(j, "batch"); }).find("key 'batch'"),
            std::string::npos);
  EXPECT_NE(message_of([&] { json_field<int>(j, "big"); }).find("key 'big'"), std::string::npos);
  EXPECT_NE(message_of([&] { json_field<uint64_t>(j, "neg"); }).find("key 'neg'"),
            std::string::npos);
  EXPECT_NE(message_of([&] { json_field<double>(j, "missing"); }).find("key 'missing' is missing"),
            std::string::npos);
  EXPECT_EQ(json_field<int>(j, "ok"), 7);
  EXPECT_EQ(json_field<double>(j, "ok"), 7.0);
}

TEST(JsonFields, ConfigValuesOfTheWrongTypeOrThatAFieldCannotHoldNameTheKey) {
  EXPECT_NE(message_of([] {
              darts_config_from_json({{"epochs", "ten"}});
            }).find("key 'epochs' is string \"ten\""),
            std::string::npos);
  EXPECT_NE(message_of([] {
              darts_config_from_json({{"epochs", 1.9}});
            }).find("key 'epochs'"),
            std::string::npos);
  EXPECT_NE(message_of([] {
              darts_config_from_json({{"epochs", true}});
            }).find("key 'epochs'"),
            std::string::npos);
  EXPECT_NE(message_of([] {
              train_config_from_json({{"epochs", 4294967296LL}});
            }).find("key 'epochs'"),
            std::string::npos);
  EXPECT_NE(message_of([] {
              train_config_from_json({{"lr", "fast"}});
            }).find("key 'lr'"),
            std::string::npos);
  EXPECT_EQ(darts_config_from_json({{"epochs", 3}, {"lr", 1}}).epochs, 3);  // 1 fits a double
}

}  // namespace
}  // namespace fusenas::nas
