// Fuzz target: the CIFAR-10 binary reader (load_cifar10). Input: a flags byte, then the file
// bytes: the test batch, or five equal parts for data_batch_1..5.
#include <filesystem>

#include "fusenas/engine/data/cifar10.h"
#include "fuzz_files.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {
namespace {

constexpr uint8_t kTrain = 1;   // five training batches, else test_batch.bin
constexpr uint8_t kNested = 2;  // inside cifar-10-batches-bin/, as the archive unpacks
constexpr size_t kRecord = 3073;

std::string records(size_t n, uint8_t first_label) {
  std::string s;
  for (size_t r = 0; r < n; ++r) {
    s.push_back(static_cast<char>((first_label + r) % 10));
    for (size_t i = 1; i < kRecord; ++i) s.push_back(static_cast<char>(i * 13 + r));
  }
  return s;
}

}  // namespace

std::vector<std::string> seeds() {
  std::string train(1, static_cast<char>(kTrain));
  for (uint8_t b = 0; b < 5; ++b) train += records(1, b);
  return {std::string(1, '\0') + records(2, 3),
          std::string(1, static_cast<char>(kNested)) + records(1, 9), train};
}

std::vector<std::string> dictionary() {
  return {std::string(1, '\x0a'), std::string(1, '\x09'), std::string(kRecord, '\0')};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const std::string_view bytes = as_view(data + 1, size - 1);
  const std::string root = fresh_dir("cifar10");
  std::string dir = root;
  if (flags & kNested) {
    dir += "/cifar-10-batches-bin";
    std::filesystem::create_directories(dir);
  }
  if (flags & kTrain) {
    const size_t part = bytes.size() / 5;
    for (size_t b = 0; b < 5; ++b) {
      const size_t len = b == 4 ? bytes.size() - 4 * part : part;
      write_bytes(dir + "/data_batch_" + std::to_string(b + 1) + ".bin",
                  bytes.substr(b * part, len));
    }
  } else {
    write_bytes(dir + "/test_batch.bin", bytes);
  }
  return run_parser([&] {
    const fusenas::data::Dataset ds = fusenas::data::load_cifar10(root, flags & kTrain);
    expect(ds.size() > 0 && ds.labels.numel() == ds.size(),
           "a loaded dataset has images and one label each");
  });
}
