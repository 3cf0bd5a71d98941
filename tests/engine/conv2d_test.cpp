// conv2d beyond its case table (tests/cases/conv2d.cpp, checked by the op_cases tests):
// hand-computed values, the output size formula, float32 against float64 on every CPU algorithm,
// and error messages for bad arguments.
#include <gtest/gtest.h>

#include <string>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"
#include "support/gradcheck.h"  // random_double

namespace fusenas {
namespace {

using testing::random_double;

struct Case {
  const char* name;
  Shape x, w;
  Conv2dParams p;
};

Conv2dParams rect(int64_t sh, int64_t sw, int64_t ph, int64_t pw) {
  return {sh, sw, ph, pw, 1, 1, 1};
}

// 1 channel 3x3 input [[1,2,3],[4,5,6],[7,8,9]], 2x2 kernel [[1,2],[3,4]].
Tensor hand_input(int64_t channels, DType dtype) {
  std::vector<double> v;
  for (int i = 1; i <= 9; ++i) {
    for (int64_t c = 0; c < channels; ++c) v.push_back(c == 0 ? i : -i);
  }
  return from_vector(v, {1, 3, 3, channels}, TensorOptions{}.with_dtype(dtype));
}

TEST(Conv2dValues, HandWorkedSingleChannel) {
  for (DType dt : {DType::Float32, DType::Float64}) {
    const TensorOptions o = TensorOptions{}.with_dtype(dt);
    Tensor x = hand_input(1, dt).set_requires_grad();
    Tensor w = from_vector(std::vector<double>{1, 2, 3, 4}, {1, 2, 2, 1}, o).set_requires_grad();
    Tensor b = from_vector(std::vector<double>{0.5}, {1}, o).set_requires_grad();
    Tensor y = conv2d(x, w, b, {});
    EXPECT_EQ(y.shape(), (Shape{1, 2, 2, 1}));
    EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{37.5, 47.5, 67.5, 77.5}));
    y.backward(ones(y.shape(), o));
    // Every output reads one window: dW sums the four windows, dX counts covering taps.
    EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{12, 16, 24, 28}));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 3, 2, 4, 10, 6, 3, 7, 4}));
    EXPECT_EQ(b.grad().to_vector<double>(), (std::vector<double>{4}));
    // Padding 1, stride 2: windows start at -1 and 1 on both axes.
    EXPECT_EQ(
        conv2d(x.detach(), w.detach(), Tensor(), Conv2dParams::square(2, 1)).to_vector<double>(),
        (std::vector<double>{4, 18, 36, 77}));
  }
}

TEST(Conv2dValues, HandWorkedDepthwise) {
  // Channel 0 as above with kernel [[1,2],[3,4]]; channel 1 is -x with an all-ones kernel.
  Tensor x = hand_input(2, DType::Float32);
  Tensor w = from_vector(std::vector<float>{1, 2, 3, 4, 1, 1, 1, 1}, {2, 2, 2, 1});
  Tensor y = conv2d(x, w, Tensor(), Conv2dParams::square(1, 0, 1, 2));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{37, -12, 47, -16, 67, -24, 77, -28}));
}

TEST(Conv2dValues, OutputSizeFormula) {
  const Tensor x = zeros({2, 9, 8, 4});
  // floor((H + 2 * pad - dil * (k - 1) - 1) / stride) + 1 on each axis.
  EXPECT_EQ(conv2d(x, zeros({6, 3, 3, 4}), Tensor(), Conv2dParams::square(2, 1)).shape(),
            (Shape{2, 5, 4, 6}));
  EXPECT_EQ(conv2d(x, zeros({4, 5, 5, 1}), Tensor(), Conv2dParams::square(1, 4, 2, 4)).shape(),
            (Shape{2, 9, 8, 4}));
  EXPECT_EQ(conv2d(x, zeros({4, 1, 7, 4}), Tensor(), rect(1, 2, 0, 3)).shape(),
            (Shape{2, 9, 4, 4}));
  EXPECT_EQ(conv2d(x, zeros({4, 1, 1, 4}), Tensor(), Conv2dParams::square(2, 0)).shape(),
            (Shape{2, 5, 4, 4}));
}

TEST(Conv2dValues, FloatMatchesDouble) {
  // The float kernels (8-wide vectors) against the double ones (4-wide) on every algorithm.
  const std::vector<Case> cases = {
      {"dense", {2, 9, 10, 12}, {8, 3, 3, 12}, Conv2dParams::square(1, 1)},
      {"dense C_out 21", {2, 9, 10, 5}, {21, 3, 3, 5}, Conv2dParams::square(1, 1)},
      {"dense gemm", {2, 5, 6, 300}, {9, 3, 3, 300}, Conv2dParams::square(1, 1)},
      {"pointwise", {2, 9, 10, 12}, {8, 1, 1, 12}, Conv2dParams::square(1, 0)},
      {"depthwise", {2, 9, 13, 20}, {20, 5, 5, 1}, Conv2dParams::square(1, 4, 2, 20)},
      {"depthwise stride 2", {2, 9, 13, 20}, {20, 3, 3, 1}, Conv2dParams::square(2, 1, 1, 20)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor xd = random_double(c.x, 1, -1, 1, false), wd = random_double(c.w, 2, -1, 1, false);
    const Tensor ref = conv2d(xd, wd, Tensor(), c.p);
    const Tensor got = conv2d(xd.to(DType::Float32), wd.to(DType::Float32), Tensor(), c.p);
    const auto a = got.to_vector<double>(), e = ref.to_vector<double>();
    ASSERT_EQ(a.size(), e.size());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], e[i], 1e-4) << i;
  }
}

TEST(Conv2dValues, NoGradRecordsNothing) {
  Tensor x = random_double({1, 4, 4, 2}, 5), w = random_double({2, 3, 3, 2}, 6);
  NoGradGuard guard;
  EXPECT_FALSE(conv2d(x, w, Tensor(), Conv2dParams::square(1, 1)).requires_grad());
}

// Runs f, expecting a fusenas::Error whose message names conv2d and every given shape.
template <typename F>
void expect_conv_error(F f, const std::vector<std::string>& shapes) {
  try {
    f();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("conv2d"), std::string::npos) << msg;
    for (const auto& s : shapes) EXPECT_NE(msg.find(s), std::string::npos) << s << " in " << msg;
  }
}

TEST(Conv2dErrors, MessagesNameOpAndShapes) {
  const Conv2dParams same = Conv2dParams::square(1, 1);
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 3}), zeros({4, 3, 3, 2}), Tensor(), same);
      },
      {"[1, 5, 5, 3]", "[4, 3, 3, 2]"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 4}), zeros({6, 3, 3, 2}), Tensor(),
               Conv2dParams::square(1, 1, 1, 3));
      },
      {"[1, 5, 5, 4]", "[6, 3, 3, 2]", "groups"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 4}), zeros({6, 3, 3, 4}), Tensor(),
               Conv2dParams::square(1, 1, 1, 0));
      },
      {"[1, 5, 5, 4]", "[6, 3, 3, 4]", "groups"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 2, 2, 1}), zeros({1, 5, 5, 1}), Tensor(), same);
      },
      {"[1, 2, 2, 1]", "[1, 5, 5, 1]"});
  expect_conv_error(
      [&] {
        conv2d(zeros({5, 5, 3}), zeros({4, 3, 3, 3}), Tensor(), same);
      },
      {"[5, 5, 3]", "[4, 3, 3, 3]"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 3}), zeros({4, 3, 3}), Tensor(), same);
      },
      {"[1, 5, 5, 3]", "[4, 3, 3]"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 3}), zeros({4, 3, 3, 3}), zeros({5}), same);
      },
      {"[1, 5, 5, 3]", "[4, 3, 3, 3]", "[5]"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 3}), zeros({4, 3, 3, 3}), Tensor(), Conv2dParams::square(0, 1));
      },
      {"[1, 5, 5, 3]", "[4, 3, 3, 3]", "stride"});
  expect_conv_error(
      [&] {
        conv2d(zeros({1, 5, 5, 3}), zeros({4, 3, 3, 3}, TensorOptions{}.with_dtype(DType::Float64)),
               Tensor(), same);
      },
      {"[1, 5, 5, 3]", "[4, 3, 3, 3]"});
}

}  // namespace
}  // namespace fusenas
