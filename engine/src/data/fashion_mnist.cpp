// Fashion-MNIST loader: IDX image and label files, gzipped, validated field by field.
#include "fusenas/engine/data/fashion_mnist.h"

#include <cstring>
#include <filesystem>

#include "fusenas/engine/error.h"
#include "gzip_reader.h"

namespace fusenas::data {
namespace {

constexpr uint32_t kImageMagic = 2051;  // 0x00000803: unsigned byte, 3 dimensions
constexpr uint32_t kLabelMagic = 2049;  // 0x00000801: unsigned byte, 1 dimension
constexpr uint32_t kSide = 28;
constexpr int64_t kClasses = 10;

// The .gz name, or the uncompressed one when only that exists.
std::string find_file(const std::filesystem::path& dir, const std::string& stem) {
  const auto gz = dir / (stem + ".gz");
  const auto plain = dir / stem;
  std::error_code ec;
  if (!std::filesystem::exists(gz, ec) && std::filesystem::exists(plain, ec)) return plain;
  return gz;
}

}  // namespace

Dataset load_fashion_mnist(const std::string& dir, bool train) {
  std::error_code ec;
  FUSENAS_CHECK(std::filesystem::is_directory(dir, ec),
                "{}: Fashion-MNIST directory not found (install dataset-fashion-mnist)", dir);
  const std::string prefix = train ? "train" : "t10k";
  const std::string image_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_file(dir, prefix + "-labels-idx1-ubyte");

  GzipReader images(image_path);
  const uint32_t image_magic = images.read_be32("the magic number");
  FUSENAS_CHECK(image_magic == kImageMagic, "{}: wrong magic number {} (IDX images need {})",
                image_path, image_magic, kImageMagic);
  const uint32_t n = images.read_be32("the image count");
  const uint32_t rows = images.read_be32("the row count");
  const uint32_t cols = images.read_be32("the column count");
  FUSENAS_CHECK(rows == kSide && cols == kSide, "{}: images are {}x{}, expected {}x{}", image_path,
                rows, cols, kSide, kSide);
  FUSENAS_CHECK(n > 0, "{}: holds no images", image_path);

  GzipReader labels(label_path);
  const uint32_t label_magic = labels.read_be32("the magic number");
  FUSENAS_CHECK(label_magic == kLabelMagic, "{}: wrong magic number {} (IDX labels need {})",
                label_path, label_magic, kLabelMagic);
  const uint32_t n_labels = labels.read_be32("the label count");
  FUSENAS_CHECK(n_labels == n, "{}: {} labels, but {} has {} images", label_path, n_labels,
                image_path, n);

  Dataset ds;
  ds.name = train ? "fashion-mnist-train" : "fashion-mnist-test";
  ds.num_classes = kClasses;
  ds.mean.assign(kFashionMnistMean.begin(), kFashionMnistMean.end());
  ds.std.assign(kFashionMnistStd.begin(), kFashionMnistStd.end());
  // Read before allocating the tensor: the counts are the file's word, the bytes are its data
  // (a count of 4294967295 once asked for 3.4 TB).
  const std::vector<uint8_t> pixels =
      images.read_vector(size_t{n} * kSide * kSide, "the pixel data");
  images.expect_end();
  ds.images = Tensor::empty({n, kSide, kSide, 1}, TensorOptions{}.with_dtype(DType::UInt8));
  std::memcpy(ds.images.data<uint8_t>(), pixels.data(), pixels.size());

  const std::vector<uint8_t> raw = labels.read_vector(n, "the label data");
  labels.expect_end();
  ds.labels = Tensor::empty({n}, TensorOptions{}.with_dtype(DType::Int64));
  int64_t* l = ds.labels.data<int64_t>();
  for (uint32_t i = 0; i < n; ++i) {
    FUSENAS_CHECK(raw[i] < kClasses, "{}: label {} of sample {} is not below {}", label_path,
                  raw[i], i, kClasses);
    l[i] = raw[i];
  }
  return ds;
}

}  // namespace fusenas::data
