// Data layer: Fashion-MNIST and CIFAR-10 loading (real and hand-written files, every bad input),
// transforms, reproducible augmentation, splits, and the prefetching, resumable DataLoader.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <thread>

#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/data/loader.h"
#include "fusenas/engine/data/split.h"
#include "fusenas/engine/data/transforms.h"
#include "fusenas/engine/factory.h"

namespace fusenas::data {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh directory per test, removed afterwards (ctest may run test processes in parallel).
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / fmt::format("fusenas_data_{}_{}_{}",
                                                    info != nullptr ? info->name() : "x",
                                                    ::getpid(), counter++);
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

void write_raw(const fs::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes gzip(const Bytes& bytes) {
  const TempDir tmp;
  const auto path = (tmp.path() / "x.gz").string();
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (!bytes.empty()) {
    EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  gzclose(f);
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void put_be32(Bytes& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

Bytes idx_images(uint32_t n, uint32_t rows = 28, uint32_t cols = 28, uint32_t magic = 2051) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(static_cast<uint8_t>(i * 7 + 3));
  return b;
}

Bytes idx_labels(uint32_t n, uint32_t magic = 2049) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, n);
  for (uint32_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(i % 10));
  return b;
}

// A small, valid Fashion-MNIST training set in `dir`.
void write_mnist(const fs::path& dir, const Bytes& images, const Bytes& labels) {
  write_raw(dir / "train-images-idx3-ubyte.gz", gzip(images));
  write_raw(dir / "train-labels-idx1-ubyte.gz", gzip(labels));
}

// Runs `fn`, expecting a fusenas::Error whose message contains every one of `parts`.
template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    const std::string msg = e.what();
    std::printf("expected error: %s\n", msg.c_str());
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

// A synthetic dataset: pixel values derived from the sample index, label index % 10.
Dataset synthetic(int64_t n, int64_t h = 4, int64_t w = 4, int64_t c = 1) {
  Dataset ds;
  ds.name = "synthetic";
  ds.num_classes = 10;
  ds.mean.assign(c, 0.5f);
  ds.std.assign(c, 0.25f);
  ds.images = Tensor::empty({n, h, w, c}, TensorOptions{}.with_dtype(DType::UInt8));
  ds.labels = Tensor::empty({n}, TensorOptions{}.with_dtype(DType::Int64));
  uint8_t* p = ds.images.data<uint8_t>();
  for (int64_t i = 0; i < ds.images.numel(); ++i)
    p[i] = static_cast<uint8_t>((i * 13 + i / 7) % 256);
  int64_t* l = ds.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) l[i] = i % 10;
  return ds;
}

std::vector<float> values(const Tensor& t) {
  return t.to_vector<float>();
}

bool same_batch(const Batch& a, const Batch& b) {
  return a.epoch == b.epoch && a.batch == b.batch && a.indices == b.indices &&
         values(a.images) == values(b.images) &&
         a.labels.to_vector<int64_t>() == b.labels.to_vector<int64_t>();
}

// ---------------------------------------------------------------- Fashion-MNIST, real files

TEST(Dataset, FashionMnistTrainSet) {
  const auto t0 = std::chrono::steady_clock::now();
  const Dataset ds = load_fashion_mnist(kFashionMnistDir, true);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("Fashion-MNIST train set loaded in %.3f s\n", seconds);
  EXPECT_EQ(ds.images.shape(), (Shape{60000, 28, 28, 1}));
  EXPECT_EQ(ds.images.dtype(), DType::UInt8);
  EXPECT_EQ(ds.labels.shape(), (Shape{60000}));
  EXPECT_EQ(ds.labels.dtype(), DType::Int64);
  EXPECT_EQ(ds.num_classes, 10);
  EXPECT_NO_THROW(ds.validate());
  std::vector<int64_t> histogram(10, 0);
  for (int64_t l : ds.labels.to_vector<int64_t>()) histogram.at(l)++;
  EXPECT_EQ(histogram, std::vector<int64_t>(10, 6000));
  const uint8_t* p = ds.images.data<uint8_t>();
  const uint64_t sum = std::accumulate(p, p + ds.images.numel(), uint64_t{0});
  EXPECT_NEAR(static_cast<double>(sum) / 255.0 / static_cast<double>(ds.images.numel()), 0.2860,
              5e-4);
  EXPECT_EQ(ds.mean, std::vector<float>{0.2860f});
  EXPECT_EQ(ds.std, std::vector<float>{0.3530f});

  // A full augmented epoch through the loader, to report its throughput.
  LoaderConfig cfg;
  cfg.batch_size = 256;
  cfg.transform.crop_padding = 4;
  cfg.transform.flip = true;
  cfg.transform.cutout_length = 16;
  DataLoader loader(ds, cfg);
  const auto t1 = std::chrono::steady_clock::now();
  int64_t seen = 0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) seen += loader.next().labels.numel();
  const double epoch_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  std::printf("one augmented epoch (%lld batches of 256) in %.3f s\n",
              static_cast<long long>(loader.batches_per_epoch()), epoch_s);
  EXPECT_EQ(seen, 60000);
}

TEST(Dataset, FashionMnistTestSet) {
  const Dataset ds = load_fashion_mnist(kFashionMnistDir, false);
  EXPECT_EQ(ds.images.shape(), (Shape{10000, 28, 28, 1}));
  std::vector<int64_t> histogram(10, 0);
  for (int64_t l : ds.labels.to_vector<int64_t>()) histogram.at(l)++;
  EXPECT_EQ(histogram, std::vector<int64_t>(10, 1000));
}

// ---------------------------------------------------------------- Fashion-MNIST, hand-made files

TEST(Dataset, FashionMnistSmallFilesLoadExactly) {
  const TempDir dir;
  write_mnist(dir.path(), idx_images(3), idx_labels(3));
  const Dataset ds = load_fashion_mnist(dir.str(), true);
  EXPECT_EQ(ds.images.shape(), (Shape{3, 28, 28, 1}));
  EXPECT_EQ(ds.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2}));
  const uint32_t i = 2 * 784 + 5 * 28 + 9;
  EXPECT_EQ(ds.images.at({2, 5, 9, 0}), static_cast<uint8_t>(i * 7 + 3));
}

TEST(Dataset, FashionMnistMissingDirectory) {
  expect_error([] { load_fashion_mnist("/nonexistent/fmnist", true); },
               {"/nonexistent/fmnist", "not found"});
}

TEST(Dataset, FashionMnistMissingFile) {
  const TempDir dir;
  write_raw(dir.path() / "train-images-idx3-ubyte.gz", gzip(idx_images(2)));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-labels-idx1-ubyte.gz", "file not found"});
  expect_error([&] { load_fashion_mnist(dir.str(), false); },
               {"t10k-images-idx3-ubyte.gz", "file not found"});
}

TEST(Dataset, FashionMnistWrongMagic) {
  const TempDir dir;
  write_mnist(dir.path(), idx_images(2, 28, 28, 2049), idx_labels(2));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "wrong magic number 2049"});
  write_mnist(dir.path(), idx_images(2), idx_labels(2, 2051));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-labels-idx1-ubyte.gz", "wrong magic number 2051"});
}

TEST(Dataset, FashionMnistCountMismatch) {
  const TempDir dir;
  write_mnist(dir.path(), idx_images(3), idx_labels(2));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-labels-idx1-ubyte.gz", "2 labels", "3 images"});
}

TEST(Dataset, FashionMnistWrongDimensions) {
  const TempDir dir;
  write_mnist(dir.path(), idx_images(2, 27, 28), idx_labels(2));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "27x28"});
}

TEST(Dataset, FashionMnistTruncatedData) {
  const TempDir dir;
  Bytes images = idx_images(3);
  images.resize(images.size() - 100);  // header promises 3 images
  write_mnist(dir.path(), images, idx_labels(3));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "truncated", "pixel data"});
  Bytes labels = idx_labels(3);
  labels.pop_back();
  write_mnist(dir.path(), idx_images(3), labels);
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-labels-idx1-ubyte.gz", "truncated", "label data"});
  write_mnist(dir.path(), Bytes{0, 0, 8}, idx_labels(3));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "truncated", "magic"});
}

TEST(Dataset, FashionMnistHugeCountsAreTruncationNotAllocation) {
  // Found by fuzz_idx: both headers claiming 4294967295 samples made the loader allocate 3.4 TB
  // for the pixels before reading one (std::bad_alloc, or an ASan abort).
  const TempDir dir;
  Bytes images, labels;
  for (const uint32_t v : {2051u, 0xffffffffu, 28u, 28u}) put_be32(images, v);
  images.resize(images.size() + 100, 7);
  for (const uint32_t v : {2049u, 0xffffffffu}) put_be32(labels, v);
  labels.resize(labels.size() + 3, 1);
  write_mnist(dir.path(), images, labels);
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "truncated", "pixel data", "3367254359280"});
}

TEST(Dataset, FashionMnistTruncatedGzipStream) {
  const TempDir dir;
  Bytes gz = gzip(idx_images(50));
  gz.resize(gz.size() / 2);  // cut mid-stream
  write_raw(dir.path() / "train-images-idx3-ubyte.gz", gz);
  write_raw(dir.path() / "train-labels-idx1-ubyte.gz", gzip(idx_labels(50)));
  expect_error([&] { load_fashion_mnist(dir.str(), true); }, {"train-images-idx3-ubyte.gz"});
  try {
    load_fashion_mnist(dir.str(), true);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("truncated") != std::string::npos ||
                msg.find("corrupt") != std::string::npos)
        << msg;
  }
  // All pixel data present but the gzip trailer (CRC, length) cut off: still an error.
  Bytes no_trailer = gzip(idx_images(50));
  no_trailer.resize(no_trailer.size() - 4);
  write_raw(dir.path() / "train-images-idx3-ubyte.gz", no_trailer);
  expect_error([&] { load_fashion_mnist(dir.str(), true); }, {"train-images-idx3-ubyte.gz"});
}

TEST(Dataset, FashionMnistCorruptGzip) {
  const TempDir dir;
  const Bytes images = idx_images(50);
  // Damage the deflate data (past the 10-byte gzip header) and, separately, the CRC trailer.
  Bytes bad_data = gzip(images);
  for (size_t i = 12; i < bad_data.size() - 8; i += 5) bad_data[i] ^= 0x5a;
  Bytes bad_crc = gzip(images);
  bad_crc[bad_crc.size() - 8] ^= 0xff;
  for (const Bytes& gz : {bad_data, bad_crc}) {
    write_raw(dir.path() / "train-images-idx3-ubyte.gz", gz);
    write_raw(dir.path() / "train-labels-idx1-ubyte.gz", gzip(idx_labels(50)));
    expect_error([&] { load_fashion_mnist(dir.str(), true); }, {"train-images-idx3-ubyte.gz"});
  }
  // Not gzip at all: zlib passes it through, and the IDX magic catches it.
  write_raw(dir.path() / "train-images-idx3-ubyte.gz", Bytes(64, 0x41));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "wrong magic number"});
}

TEST(Dataset, FashionMnistTrailingBytesAndBadLabel) {
  const TempDir dir;
  Bytes images = idx_images(2);
  images.push_back(1);
  write_mnist(dir.path(), images, idx_labels(2));
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-images-idx3-ubyte.gz", "trailing"});
  Bytes labels = idx_labels(2);
  labels.back() = 12;
  write_mnist(dir.path(), idx_images(2), labels);
  expect_error([&] { load_fashion_mnist(dir.str(), true); },
               {"train-labels-idx1-ubyte.gz", "label 12"});
}

// ---------------------------------------------------------------- CIFAR-10

// Pixel (y, x) of channel c in record r of file f.
uint8_t cifar_pixel(int f, int r, int c, int y, int x) {
  return static_cast<uint8_t>(f * 31 + r * 17 + c * 101 + y * 3 + x * 5);
}

Bytes cifar_file(int f, int records, uint8_t bad_label = 0) {
  Bytes b;
  for (int r = 0; r < records; ++r) {
    b.push_back(bad_label != 0 && r == records - 1 ? bad_label
                                                   : static_cast<uint8_t>((f + r) % 10));
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) b.push_back(cifar_pixel(f, r, c, y, x));
  }
  return b;
}

void write_cifar(const fs::path& dir, int records) {
  for (int f = 1; f <= 5; ++f)
    write_raw(dir / fmt::format("data_batch_{}.bin", f), cifar_file(f, records));
  write_raw(dir / "test_batch.bin", cifar_file(0, records));
}

TEST(Dataset, Cifar10ConvertsPlanesToNhwc) {
  const TempDir dir;
  write_cifar(dir.path(), 2);
  const Dataset train = load_cifar10(dir.str(), true);
  EXPECT_EQ(train.images.shape(), (Shape{10, 32, 32, 3}));
  EXPECT_EQ(train.name, "cifar10-train");
  EXPECT_EQ(train.mean, (std::vector<float>{0.4914f, 0.4822f, 0.4465f}));
  // Sample 7 is record 1 of data_batch_4.bin.
  EXPECT_EQ(train.labels.at({7}), (4 + 1) % 10);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(train.images.at({7, 5, 30, c}), cifar_pixel(4, 1, c, 5, 30)) << c;
    EXPECT_EQ(train.images.at({0, 0, 0, c}), cifar_pixel(1, 0, c, 0, 0)) << c;
  }
  const Dataset test = load_cifar10(dir.str(), false);
  EXPECT_EQ(test.images.shape(), (Shape{2, 32, 32, 3}));
  EXPECT_EQ(test.images.at({1, 31, 2, 2}), cifar_pixel(0, 1, 2, 31, 2));
  EXPECT_EQ(test.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(Dataset, Cifar10FindsBatchesSubfolder) {
  const TempDir dir;
  fs::create_directories(dir.path() / "cifar-10-batches-bin");
  write_cifar(dir.path() / "cifar-10-batches-bin", 1);
  EXPECT_EQ(load_cifar10(dir.str(), true).size(), 5);
}

TEST(Dataset, Cifar10BadInputs) {
  expect_error([] { load_cifar10("/nonexistent/cifar", true); },
               {"/nonexistent/cifar", "not found"});
  const TempDir dir;
  write_cifar(dir.path(), 2);
  fs::remove(dir.path() / "data_batch_3.bin");
  expect_error([&] { load_cifar10(dir.str(), true); }, {"data_batch_3.bin", "file not found"});
  Bytes truncated = cifar_file(3, 2);
  truncated.resize(truncated.size() - 10);
  write_raw(dir.path() / "data_batch_3.bin", truncated);
  expect_error([&] { load_cifar10(dir.str(), true); },
               {"data_batch_3.bin", "3073-byte record", "6136"});
  write_raw(dir.path() / "data_batch_3.bin", Bytes{});
  expect_error([&] { load_cifar10(dir.str(), true); }, {"data_batch_3.bin", "size 0"});
  write_raw(dir.path() / "data_batch_3.bin", cifar_file(3, 2, 10));
  expect_error([&] { load_cifar10(dir.str(), true); },
               {"data_batch_3.bin", "label 10 of record 1"});
}

// ---------------------------------------------------------------- transforms

// A [1, H, W, C] uint8 image whose values are all distinct and non-zero.
Tensor ramp(int64_t h, int64_t w, int64_t c) {
  std::vector<uint8_t> v(h * w * c);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i + 1);
  return from_vector(v, {1, h, w, c}, TensorOptions{}.with_dtype(DType::UInt8));
}

TransformConfig raw_config() {
  TransformConfig cfg;
  cfg.normalize = false;  // outputs x/255, so a zero-filled pixel reads 0
  return cfg;
}

TEST(Transform, NormalizesPerChannel) {
  const Tensor img = ramp(2, 2, 3);
  const Tensor out = normalize(img, kCifar10Mean, kCifar10Std);
  EXPECT_EQ(out.dtype(), DType::Float32);
  EXPECT_EQ(out.shape(), (Shape{1, 2, 2, 3}));
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 2; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        const double v = img.at({0, y, x, c});
        EXPECT_NEAR(out.at({0, y, x, c}), (v / 255.0 - kCifar10Mean[c]) / kCifar10Std[c], 1e-5);
      }
  const Tensor plain = apply_transforms(img, raw_config());
  EXPECT_NEAR(plain.at({0, 1, 1, 2}), img.at({0, 1, 1, 2}) / 255.0, 1e-7);
  expect_error([&] { normalize(img, kFashionMnistMean, kFashionMnistStd); }, {"3 channels"});
}

TEST(Transform, FlipMirrorsColumns) {
  const Tensor img = ramp(3, 5, 2);
  AugmentParams p;
  p.flip = true;
  const Tensor out = apply_transforms(img, raw_config(), std::span(&p, 1));
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 5; ++x)
      for (int64_t c = 0; c < 2; ++c)
        EXPECT_FLOAT_EQ(out.at({0, y, x, c}), img.at({0, y, 4 - x, c}) / 255.0f);
}

TEST(Transform, CropShiftsAndZeroFills) {
  const Tensor img = ramp(4, 5, 1);
  for (const auto& [dy, dx, flip] : {std::tuple{1, -2, false}, std::tuple{-3, 4, false},
                                     std::tuple{2, 1, true}, std::tuple{0, 0, false}}) {
    AugmentParams p;
    p.shift_y = dy;
    p.shift_x = dx;
    p.flip = flip;
    const Tensor out = apply_transforms(img, raw_config(), std::span(&p, 1));
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t x = 0; x < 5; ++x) {
        const int64_t sy = y + dy, sx = (flip ? 4 - x : x) + dx;
        const bool inside = sy >= 0 && sy < 4 && sx >= 0 && sx < 5;
        EXPECT_FLOAT_EQ(out.at({0, y, x, 0}), inside ? img.at({0, sy, sx, 0}) / 255.0f : 0.0f)
            << dy << " " << dx << " " << flip << " at " << y << "," << x;
      }
  }
  // Zero padding is black before normalisation: it reads -mean/std afterwards.
  TransformConfig cfg;
  cfg.mean = {0.5f};
  cfg.std = {0.25f};
  AugmentParams p;
  p.shift_y = -1;
  EXPECT_FLOAT_EQ(apply_transforms(img, cfg, std::span(&p, 1)).at({0, 0, 2, 0}), -2.0f);
}

TEST(Transform, CutoutZeroesExactlyAClippedSquare) {
  const Tensor img = ramp(6, 7, 2);
  struct Case {
    int64_t length, cy, cx, y0, y1, x0, x1;
  };
  // Rows [cy - L/2, cy - L/2 + L) and columns likewise, clipped to the image.
  for (const Case& k : {Case{4, 3, 3, 1, 5, 1, 5}, Case{4, 0, 6, 0, 2, 4, 7},
                        Case{3, 5, 0, 4, 6, 0, 2}, Case{16, 2, 2, 0, 6, 0, 7}}) {
    TransformConfig cfg;
    cfg.mean = {0.1f, 0.2f};
    cfg.std = {0.3f, 0.4f};
    const Tensor base = apply_transforms(img, cfg);
    cfg.cutout_length = k.length;
    AugmentParams p;
    p.cutout = true;
    p.cutout_y = k.cy;
    p.cutout_x = k.cx;
    const Tensor out = apply_transforms(img, cfg, std::span(&p, 1));
    int64_t zeros = 0;
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t x = 0; x < 7; ++x)
        for (int64_t c = 0; c < 2; ++c) {
          const bool in_square = y >= k.y0 && y < k.y1 && x >= k.x0 && x < k.x1;
          EXPECT_EQ(out.at({0, y, x, c}), in_square ? 0.0 : base.at({0, y, x, c}));
          zeros += out.at({0, y, x, c}) == 0.0 ? 1 : 0;
        }
    EXPECT_EQ(zeros, (k.y1 - k.y0) * (k.x1 - k.x0) * 2);
  }
}

TEST(Transform, DrawsCoverTheirRanges) {
  TransformConfig cfg;
  cfg.crop_padding = 2;
  cfg.flip = true;
  cfg.cutout_length = 3;
  std::set<int64_t> shifts, centres;
  int flips = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    SampleRandom rng(5, 1, i);
    const AugmentParams p = draw_augment(cfg, 4, 6, rng);
    shifts.insert(p.shift_y);
    shifts.insert(p.shift_x);
    centres.insert(p.cutout_y * 100 + p.cutout_x);
    flips += p.flip ? 1 : 0;
    EXPECT_TRUE(p.cutout);
  }
  EXPECT_EQ(shifts, (std::set<int64_t>{-2, -1, 0, 1, 2}));
  EXPECT_EQ(centres.size(), 24u);
  EXPECT_NEAR(flips, n / 2, 150);

  // Each field owns its word: turning flip and cutout off leaves the crop draws alone.
  TransformConfig crop_only;
  crop_only.crop_padding = 2;
  for (int i = 0; i < 50; ++i) {
    SampleRandom a(5, 1, i), b(5, 1, i);
    const AugmentParams pa = draw_augment(cfg, 4, 6, a), pb = draw_augment(crop_only, 4, 6, b);
    EXPECT_EQ(pa.shift_y, pb.shift_y);
    EXPECT_EQ(pa.shift_x, pb.shift_x);
    EXPECT_FALSE(pb.flip);
    EXPECT_FALSE(pb.cutout);
  }
}

TEST(Transform, AugmentationIsSeededAndCounterBased) {
  const Dataset ds = synthetic(16, 8, 8, 3);
  TransformConfig cfg;
  cfg.crop_padding = 2;
  cfg.flip = true;
  cfg.cutout_length = 4;
  cfg.mean = ds.mean;
  cfg.std = ds.std;
  const auto a = values(augment_batch(ds.images, cfg, 7, 3, 100));
  EXPECT_EQ(a, values(augment_batch(ds.images, cfg, 7, 3, 100)));
  EXPECT_NE(a, values(augment_batch(ds.images, cfg, 8, 3, 100)));
  EXPECT_NE(a, values(augment_batch(ds.images, cfg, 7, 4, 100)));
  // Image i depends only on (seed, epoch, position): a sub-batch reproduces it.
  const auto tail = values(augment_batch(ds.images.narrow(0, 5, 11), cfg, 7, 3, 105));
  EXPECT_EQ(tail, std::vector<float>(a.begin() + 5 * 192, a.end()));
  SampleRandom r1(1, 2, 3), r2(1, 2, 3), r3(1, 2, 4);
  const uint32_t w1 = r1.next_u32();
  EXPECT_EQ(w1, r2.next_u32());
  EXPECT_NE(w1, r3.next_u32());
  expect_error([] { SampleRandom(1, int64_t{1} << 30, 0); }, {"epoch"});
}

// ---------------------------------------------------------------- split

TEST(Dataset, SplitByPortion) {
  const Split s = split_train_val(50000, 0.5);
  EXPECT_EQ(s.train.size(), 25000u);
  EXPECT_EQ(s.val.size(), 25000u);
  EXPECT_EQ(s.train.front(), 0);
  EXPECT_EQ(s.train.back(), 24999);
  EXPECT_EQ(s.val.front(), 25000);
  EXPECT_EQ(s.val.back(), 49999);
  const Split t = split_train_val(11, 0.3);
  EXPECT_EQ(t.train, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(t.val.size(), 8u);
  EXPECT_EQ(split_train_val(7, 1.0).val.size(), 0u);
  EXPECT_EQ(split_train_val(7, 0.0).train.size(), 0u);
  expect_error([] { split_train_val(7, 1.5); }, {"portion 1.5"});
}

// ---------------------------------------------------------------- loader

LoaderConfig small_config(int64_t batch, uint64_t seed = 1) {
  LoaderConfig cfg;
  cfg.batch_size = batch;
  cfg.seed = seed;
  cfg.transform.crop_padding = 1;
  cfg.transform.flip = true;
  cfg.transform.cutout_length = 2;
  return cfg;
}

TEST(Loader, CoversEverySampleOncePerEpochShuffled) {
  const Dataset ds = synthetic(103);
  LoaderConfig cfg;
  cfg.batch_size = 10;
  cfg.seed = 3;
  DataLoader loader(ds, cfg);
  EXPECT_EQ(loader.batches_per_epoch(), 11);
  std::vector<std::vector<int64_t>> orders;
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> order;
    for (int64_t b = 0; b < 11; ++b) {
      const Batch batch = loader.next();
      EXPECT_EQ(batch.epoch, epoch);
      EXPECT_EQ(batch.batch, b);
      EXPECT_EQ(batch.images.shape(), (Shape{b == 10 ? 3 : 10, 4, 4, 1}));
      EXPECT_EQ(batch.images.dtype(), DType::Float32);
      EXPECT_EQ(batch.labels.dtype(), DType::Int64);
      const auto labels = batch.labels.to_vector<int64_t>();
      // No augmentation configured: each image is its normalised dataset image.
      const Tensor expected = normalize(ds.images.narrow(0, batch.indices[0], 1), ds.mean, ds.std);
      EXPECT_EQ(values(batch.images.narrow(0, 0, 1)), values(expected));
      for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(labels[i], batch.indices[i] % 10);
      order.insert(order.end(), batch.indices.begin(), batch.indices.end());
    }
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> all(103);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all);
    EXPECT_NE(order, all);
    orders.push_back(order);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_EQ(loader.state().epoch, 2);
  EXPECT_EQ(loader.state().batch, 0);
}

TEST(Loader, DropLastAndUnshuffledOrder) {
  const Dataset ds = synthetic(103);
  LoaderConfig cfg;
  cfg.batch_size = 10;
  cfg.drop_last = true;
  cfg.shuffle = false;
  DataLoader loader(ds, cfg);
  EXPECT_EQ(loader.batches_per_epoch(), 10);
  for (int64_t b = 0; b < 10; ++b) {
    const Batch batch = loader.next();
    EXPECT_EQ(batch.indices.size(), 10u);
    EXPECT_EQ(batch.indices.front(), b * 10);
  }
  EXPECT_EQ(loader.next().epoch, 1);
}

TEST(Loader, SubsetsAndMaxSamples) {
  const Dataset ds = synthetic(50);
  const Split split = split_train_val(50, 0.6);
  DataLoader val(ds, small_config(8), split.val);
  EXPECT_EQ(val.num_samples(), 20);
  std::set<int64_t> seen;
  for (int64_t b = 0; b < val.batches_per_epoch(); ++b) {
    for (int64_t i : val.next().indices) EXPECT_TRUE(seen.insert(i).second);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(*seen.begin(), 30);
  LoaderConfig cfg = small_config(4);
  cfg.max_samples = 9;
  DataLoader quick(ds, cfg);
  EXPECT_EQ(quick.num_samples(), 9);
  EXPECT_EQ(quick.batches_per_epoch(), 3);
  for (int b = 0; b < 3; ++b)
    for (int64_t i : quick.next().indices) EXPECT_LT(i, 9);
  expect_error(
      [&] {
        DataLoader tmp(ds, small_config(4), std::vector<int64_t>{1, 50});
      },
      {"sample index 50"});
  expect_error([&] { DataLoader tmp(ds, small_config(4), std::vector<int64_t>{}); }, {"no batch"});
}

TEST(Loader, SameSeedSameBatchesDifferentSeedDifferent) {
  const Dataset ds = synthetic(40, 6, 6, 3);
  LoaderConfig sync_cfg = small_config(8, 11);
  sync_cfg.prefetch = 0;
  DataLoader a(ds, small_config(8, 11)), b(ds, small_config(8, 11)), c(ds, small_config(8, 12)),
      sync(ds, sync_cfg);
  int differ = 0;
  for (int i = 0; i < 12; ++i) {
    const Batch ba = a.next(), bb = b.next(), bc = c.next(), bs = sync.next();
    EXPECT_TRUE(same_batch(ba, bb)) << i;
    EXPECT_TRUE(same_batch(ba, bs)) << i;  // prefetching changes nothing
    differ += values(ba.images) != values(bc.images) ? 1 : 0;
  }
  EXPECT_EQ(differ, 12);
}

TEST(Loader, ResumeContinuesTheExactSequence) {
  const Dataset ds = synthetic(37, 5, 5, 2);
  const LoaderConfig cfg = small_config(5, 21);  // 8 batches per epoch, last one of 2
  DataLoader full(ds, cfg);
  std::vector<Batch> reference;
  for (int i = 0; i < 20; ++i) reference.push_back(full.next());
  for (int k : {0, 3, 8, 13}) {
    LoaderState saved;
    {
      DataLoader first(ds, cfg);
      for (int i = 0; i < k; ++i) EXPECT_TRUE(same_batch(first.next(), reference[i]));
      saved = first.state();
    }
    DataLoader resumed(ds, cfg);
    resumed.next();  // a loader that already ran ahead must still restore exactly
    resumed.set_state(saved);
    for (int i = k; i < 20; ++i)
      EXPECT_TRUE(same_batch(resumed.next(), reference[i])) << k << " " << i;
  }
  DataLoader other(ds, small_config(5, 22));
  expect_error([&] { other.set_state(full.state()); }, {"seed 21", "seed 22"});
  LoaderState bad = full.state();
  bad.batch = 8;
  expect_error([&] { full.set_state(bad); }, {"batch 8"});
}

TEST(Loader, WorkerErrorsReachTheConsumer) {
  const Dataset ds = synthetic(20);
  DataLoader loader(ds, small_config(4));
  LoaderState s = loader.state();
  s.epoch = int64_t{1} << 30;  // beyond SampleRandom's epoch range: fails inside the worker
  loader.set_state(s);
  expect_error([&] { loader.next(); }, {"epoch"});
  expect_error([&] { loader.next(); }, {"epoch"});  // sticky, no hang
  s.epoch = 0;
  loader.set_state(s);
  EXPECT_EQ(loader.next().batch, 0);
}

TEST(Loader, PrefetchRunsAhead) {
  const Dataset ds = synthetic(64, 8, 8, 3);
  LoaderConfig cfg = small_config(4);
  cfg.prefetch = 2;
  DataLoader loader(ds, cfg);
  loader.next();
  loader.reset_stats();
  // The worker needs microseconds per batch; a long sleep leaves it ample time even on a loaded
  // machine, so at least one of these must find its batch already prepared.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    loader.next();
  }
  const LoaderStats stats = loader.stats();
  EXPECT_EQ(stats.batches, 3);
  EXPECT_GE(stats.ready, 1);
  EXPECT_GE(stats.wait_seconds, 0.0);
  EXPECT_LE(stats.max_wait_seconds, stats.wait_seconds + 1e-12);
}

TEST(Loader, ShutsDownCleanlyInAnyState) {
  const Dataset ds = synthetic(64);
  for (int64_t prefetch : {0, 1, 4}) {
    LoaderConfig cfg = small_config(4);
    cfg.prefetch = prefetch;
    { DataLoader idle(ds, cfg); }  // destroyed while the worker may still be filling its queue
    DataLoader used(ds, cfg);
    used.next();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // queue full, worker blocked
  }
}

}  // namespace
}  // namespace fusenas::data
