// Tensor basics: factories, views (reshape/permute/slice/narrow), contiguous copies and dtypes.
#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"

namespace fusenas {
namespace {

Tensor iota(const Shape& shape) {
  std::vector<float> v(numel_of(shape));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return from_vector(v, shape);
}

TEST(Tensor, FactoriesFillValues) {
  EXPECT_EQ(zeros({2, 3}).to_vector<float>(), std::vector<float>(6, 0.0f));
  EXPECT_EQ(ones({4}).to_vector<float>(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(full({2}, 2.5).to_vector<float>(), std::vector<float>(2, 2.5f));
  EXPECT_EQ(full({2}, 7, TensorOptions{}.with_dtype(DType::Int64)).to_vector<int64_t>(),
            (std::vector<int64_t>{7, 7}));
}

TEST(Tensor, SeededRandomIsReproducibleAndInRange) {
  Generator g1(42), g2(42), g3(43);
  const auto a = uniform({1000}, -2, 3, g1).to_vector<float>();
  const auto b = uniform({1000}, -2, 3, g2).to_vector<float>();
  const auto c = uniform({1000}, -2, 3, g3).to_vector<float>();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  double m = 0;
  for (float v : a) {
    EXPECT_GE(v, -2.0f);
    EXPECT_LT(v, 3.0f);
    m += v;
  }
  EXPECT_NEAR(m / 1000, 0.5, 0.15);
  Generator g4(1);
  const auto n = normal({20000}, 1.0, 2.0, g4).to_vector<float>();
  double mean = 0, var = 0;
  for (float v : n) mean += v;
  mean /= n.size();
  for (float v : n) var += (v - mean) * (v - mean);
  var /= n.size();
  EXPECT_NEAR(mean, 1.0, 0.05);
  EXPECT_NEAR(var, 4.0, 0.15);
  Generator g5(3);
  for (int64_t v : randint({500}, 3, 7, g5).to_vector<int64_t>()) {
    EXPECT_GE(v, 3);
    EXPECT_LT(v, 7);
  }
}

TEST(Tensor, GeneratorStateRoundTripsMidBlock) {
  Generator g(9);
  g.next_u32();  // leave words buffered
  const GeneratorState s = g.state();
  const uint32_t expected = g.next_u32();
  Generator h(0);
  h.set_state(s);
  EXPECT_EQ(h.next_u32(), expected);
}

TEST(Tensor, ReshapeAndPermuteAreViews) {
  Tensor x = iota({2, 3, 4});
  Tensor r = x.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.storage(), x.storage());
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_FALSE(p.is_contiguous());
  EXPECT_EQ(p.at({3, 1, 2}), x.at({1, 2, 3}));
  Tensor c = p.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.at({3, 1, 2}), 23.0);
}

TEST(Tensor, StridedSliceMatchesPythonSemantics) {
  // x[:, 1:, 1:] on a [2, 3, 3] tensor, and a step-2 slice.
  Tensor x = iota({2, 3, 3});
  Tensor s = x.slice(1, 1, 3).slice(2, 1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(s.contiguous().to_vector<float>(), (std::vector<float>{4, 5, 7, 8, 13, 14, 16, 17}));
  Tensor t = x.slice(2, 0, 3, 2);
  EXPECT_EQ(t.contiguous().to_vector<float>(),
            (std::vector<float>{0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17}));
  EXPECT_EQ(x.slice(1, -1, 100).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.narrow(2, 1, 1).contiguous().to_vector<float>(),
            (std::vector<float>{1, 4, 7, 10, 13, 16}));
  EXPECT_THROW(x.narrow(2, 2, 2), Error);
}

TEST(Tensor, DtypeConversionAndElementAccess) {
  Tensor x =
      from_vector(std::vector<double>{1.5, -2.25}, {2}, TensorOptions{}.with_dtype(DType::Float64));
  EXPECT_EQ(x.dtype(), DType::Float64);
  EXPECT_EQ(x.to(DType::Float32).to_vector<float>(), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(x.to(DType::Int64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2}));
  EXPECT_DOUBLE_EQ(x.at({1}), -2.25);
  EXPECT_THROW(x.data<float>(), Error);
  Tensor u8 =
      from_vector(std::vector<uint8_t>{0, 255}, {2}, TensorOptions{}.with_dtype(DType::UInt8));
  EXPECT_EQ(u8.at({1}), 255.0);
}

TEST(Tensor, CudaRequestsFailClearlyWithoutDevice) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present";
  try {
    zeros({2}).to(Device::cuda());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
}

TEST(Tensor, InPlaceUpdatesBroadcast) {
  Tensor x = zeros({2, 3});
  x.add_(from_vector(std::vector<float>{1, 2, 3}, {3}), 2.0);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{2, 4, 6, 2, 4, 6}));
  x.mul_(0.5);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  x.slice(1, 0, 1).fill_(9);
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{9, 2, 3, 9, 2, 3}));
  EXPECT_THROW(x.add_(zeros({3, 3})), Error);
  x.mul_(from_vector(std::vector<float>{1, 10, 100}, {3}));
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{9, 20, 300, 9, 20, 300}));
  x.slice(1, 1, 3).mul_(full({}, -1.0));  // a strided view, scaled by a 0-d tensor
  EXPECT_EQ(x.to_vector<float>(), (std::vector<float>{9, -20, -300, 9, -20, -300}));
  EXPECT_THROW(x.mul_(zeros({3, 3})), Error);
}

}  // namespace
}  // namespace fusenas
