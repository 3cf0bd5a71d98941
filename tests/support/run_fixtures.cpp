// Fixtures for whole-run tests.
#include "support/run_fixtures.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/io/atomic_file.h"
#include "fusenas/engine/io/safetensors.h"

namespace fusenas::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() / fmt::format("fusenas_run_{}_{}", ::getpid(), counter++);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

nas::TrainConfig tiny_train_config(const std::string& data_dir) {
  nas::TrainConfig c;
  c.arch = "DARTS_V2";
  c.init_channels = 4;
  c.layers = 3;
  c.data.dataset = "cifar10";
  c.data.data_dir = data_dir;
  c.epochs = 2;
  c.batch_size = 8;
  c.data.train_subset = 24;  // 3 batches per epoch
  c.cutout = 8;
  c.auxiliary = 0.4;
  c.drop_path = 0.3;
  c.seed = 7;
  return c;
}

void write_tiny_cifar(const std::string& dir, int per_file) {
  fs::create_directories(dir);
  Generator gen(42);
  auto write = [&](const std::string& name) {
    std::ofstream out(fs::path(dir) / name, std::ios::binary);
    for (int r = 0; r < per_file; ++r) {
      const auto label = static_cast<unsigned char>(gen.next_int(0, 10));
      out.put(static_cast<char>(label));
      for (int i = 0; i < 3 * 32 * 32; ++i)
        out.put(static_cast<char>(gen.next_int(0, 128) + label * 12));
    }
  };
  for (int i = 1; i <= 5; ++i) write(fmt::format("data_batch_{}.bin", i));
  write("test_batch.bin");
}

void write_pattern_corpus(const std::string& path, int lines) {
  const char* sentences[] = {"the cat sat on the mat", "a dog ran in the park",
                             "my bird sang at dawn", "one fish swam far away"};
  std::ofstream out(path);
  for (int i = 0; i < lines; ++i) out << sentences[(i * 7 + i / 3) % 4] << "\n";
}

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(io::read_file(path));
}

std::map<std::string, Tensor> checkpoint_tensors(const std::string& run) {
  const auto state = read_json(run + "/checkpoint.json");
  return io::load_safetensors(run + "/" + state["tensor_file"].get<std::string>()).tensors;
}

void expect_same_tensors(const std::string& a, const std::string& b) {
  const auto ta = checkpoint_tensors(a), tb = checkpoint_tensors(b);
  ASSERT_EQ(ta.size(), tb.size());
  for (const auto& [name, t] : ta) {
    ASSERT_TRUE(tb.count(name)) << name;
    const Tensor& u = tb.at(name);
    ASSERT_EQ(t.shape(), u.shape()) << name;
    ASSERT_EQ(t.dtype(), u.dtype()) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), u.raw_data(), t.numel() * dtype_size(t.dtype())), 0)
        << name << " differs";
  }
}

std::vector<nlohmann::json> json_lines(const std::string& run, const std::string& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(run + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    std::vector<std::string> clock;
    for (const auto& [k, v] : j.items()) {
      if (k.find("seconds") != std::string::npos || k.find("_per_s") != std::string::npos ||
          k.find("wait") != std::string::npos)
        clock.push_back(k);
    }
    for (const auto& k : clock) j.erase(k);
    out.push_back(j);
  }
  return out;
}

}  // namespace fusenas::testing
