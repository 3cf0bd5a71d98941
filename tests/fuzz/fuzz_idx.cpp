// Fuzz target: the Fashion-MNIST IDX reader (load_fashion_mnist) and the gzip layer under it.
// Input: a flags byte, a little-endian u16 label-file length, the label file, then the image file.
#include <filesystem>

#include "fusenas/engine/data/fashion_mnist.h"
#include "fuzz_files.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {
namespace {

constexpr uint8_t kTrain = 1;       // train-* names, else t10k-*
constexpr uint8_t kGzipImages = 2;  // the harness compresses the image bytes
constexpr uint8_t kGzipLabels = 4;  // the harness compresses the label bytes
constexpr uint8_t kPlainNames = 8;  // names without .gz (the reader then opens those)

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string idx_images(uint32_t n) {
  std::string s = be32(2051) + be32(n) + be32(28) + be32(28);
  for (uint32_t i = 0; i < n * 28 * 28; ++i) s.push_back(static_cast<char>(i * 7));
  return s;
}

std::string idx_labels(uint32_t n) {
  std::string s = be32(2049) + be32(n);
  for (uint32_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i % 10));
  return s;
}

std::string input(uint8_t flags, const std::string& labels, const std::string& images) {
  std::string s(1, static_cast<char>(flags));
  s.push_back(static_cast<char>(labels.size() & 0xff));
  s.push_back(static_cast<char>(labels.size() >> 8));
  return s + labels + images;
}

}  // namespace

std::vector<std::string> seeds() {
  const std::string labels = idx_labels(3), images = idx_images(3);
  return {input(0, labels, images), input(kTrain | kGzipImages | kGzipLabels, labels, images),
          input(kPlainNames, labels, images),
          // Already compressed: mutations then land in the gzip stream itself.
          input(kTrain, gzip_bytes(labels), gzip_bytes(images)),
          input(0, gzip_bytes(idx_labels(1)), gzip_bytes(idx_images(1)))};
}

std::vector<std::string> dictionary() {
  return {be32(2051),
          be32(2049),
          be32(28),
          be32(0),
          be32(0xffffffff),
          "\x1f\x8b\x08",
          "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const size_t label_len = std::min<size_t>(data[1] | (size_t{data[2]} << 8), size - 3);
  std::string labels(reinterpret_cast<const char*>(data + 3), label_len);
  std::string images(reinterpret_cast<const char*>(data + 3 + label_len), size - 3 - label_len);
  if (flags & kGzipLabels) labels = gzip_bytes(labels);
  if (flags & kGzipImages) images = gzip_bytes(images);
  const std::string dir = fresh_dir("idx");
  const std::string prefix = (flags & kTrain) ? "train" : "t10k";
  const std::string ext = (flags & kPlainNames) ? "" : ".gz";
  write_bytes(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, labels);
  write_bytes(dir + "/" + prefix + "-images-idx3-ubyte" + ext, images);
  return run_parser([&] {
    const fusenas::data::Dataset ds = fusenas::data::load_fashion_mnist(dir, flags & kTrain);
    expect(ds.size() > 0 && ds.labels.numel() == ds.size(),
           "a loaded dataset has images and one label each");
  });
}
