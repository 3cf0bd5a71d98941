// CIFAR-10 loader: fixed-size binary records, planar RGB converted to NHWC.
#include "fusenas/engine/data/cifar10.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "fusenas/engine/error.h"

namespace fusenas::data {
namespace {

constexpr int64_t kSide = 32;
constexpr int64_t kPlane = kSide * kSide;
constexpr int64_t kRecord = 1 + 3 * kPlane;  // 3073: label byte, then R, G, B planes
constexpr int64_t kClasses = 10;

}  // namespace

Dataset load_cifar10(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  std::error_code ec;
  FUSENAS_CHECK(fs::is_directory(dir, ec), "{}: CIFAR-10 directory not found", dir);
  fs::path root = dir;
  const std::string first = train ? "data_batch_1.bin" : "test_batch.bin";
  if (!fs::exists(root / first, ec) && fs::exists(root / "cifar-10-batches-bin" / first, ec)) {
    root /= "cifar-10-batches-bin";
  }
  std::vector<std::string> files;
  if (train) {
    for (int i = 1; i <= 5; ++i) files.push_back(root / fmt::format("data_batch_{}.bin", i));
  } else {
    files.push_back(root / "test_batch.bin");
  }

  // Sizes first, so a bad file fails before anything is allocated.
  int64_t total = 0;
  std::vector<int64_t> counts;
  for (const auto& f : files) {
    FUSENAS_CHECK(fs::is_regular_file(f, ec), "{}: file not found", f);
    const auto bytes = static_cast<int64_t>(fs::file_size(f, ec));
    FUSENAS_CHECK(!ec, "{}: cannot stat: {}", f, ec.message());
    FUSENAS_CHECK(bytes > 0 && bytes % kRecord == 0,
                  "{}: size {} bytes is not a positive multiple of the {}-byte record (truncated?)",
                  f, bytes, kRecord);
    counts.push_back(bytes / kRecord);
    total += bytes / kRecord;
  }

  Dataset ds;
  ds.name = train ? "cifar10-train" : "cifar10-test";
  ds.num_classes = kClasses;
  ds.mean.assign(kCifar10Mean.begin(), kCifar10Mean.end());
  ds.std.assign(kCifar10Std.begin(), kCifar10Std.end());
  ds.images = Tensor::empty({total, kSide, kSide, 3}, TensorOptions{}.with_dtype(DType::UInt8));
  ds.labels = Tensor::empty({total}, TensorOptions{}.with_dtype(DType::Int64));
  uint8_t* img = ds.images.data<uint8_t>();
  int64_t* lab = ds.labels.data<int64_t>();

  std::vector<unsigned char> record(kRecord);
  int64_t sample = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::ifstream in(files[fi], std::ios::binary);
    FUSENAS_CHECK(in.good(), "{}: cannot open: {}", files[fi], std::strerror(errno));
    for (int64_t r = 0; r < counts[fi]; ++r, ++sample) {
      in.read(reinterpret_cast<char*>(record.data()), kRecord);
      FUSENAS_CHECK(in.gcount() == kRecord, "{}: short read in record {} (file changed?)",
                    files[fi], r);
      FUSENAS_CHECK(record[0] < kClasses, "{}: label {} of record {} is not below {}", files[fi],
                    record[0], r, kClasses);
      lab[sample] = record[0];
      uint8_t* out = img + sample * kPlane * 3;
      const unsigned char* planes = record.data() + 1;
      for (int64_t p = 0; p < kPlane; ++p) {
        out[3 * p + 0] = planes[p];
        out[3 * p + 1] = planes[kPlane + p];
        out[3 * p + 2] = planes[2 * kPlane + p];
      }
    }
  }
  return ds;
}

}  // namespace fusenas::data
