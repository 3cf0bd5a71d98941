// CPU kernels for dropout and drop_path. Dropout's threads split the Philox blocks (4 elements
// each), so every element's draw depends only on its index, never on the thread count.
#include "ops/cpu/dropout.h"

#include "core/dispatch.h"
#include "core/parallel.h"
#include "fusenas/kernels/philox.h"

namespace fusenas::cpu {
namespace {

// y[i] = x[i] * factor[mask[i]] over contiguous data, where each sample of `inner` elements shares
// one mask byte (inner = 1 for dropout).
template <typename T>
void apply_mask(const T* x, const uint8_t* mask, T* y, int64_t n, int64_t inner, T scale) {
  const T factor[2] = {T(0), scale};
  parallel_for(n, 32768, [&](int64_t b, int64_t e) {
    if (inner == 1) {
      for (int64_t i = b; i < e; ++i) y[i] = x[i] * factor[mask[i]];
      return;
    }
    for (int64_t i = b; i < e;) {
      const int64_t sample = i / inner;
      const int64_t stop = std::min(e, (sample + 1) * inner);
      const T f = factor[mask[sample]];
      for (; i < stop; ++i) y[i] = x[i] * f;
    }
  });
}

// mask[i] = keep(i) for i in [0, units).
void draw_mask(uint8_t* mask, int64_t units, double p, uint64_t seed, uint64_t first_block) {
  const float threshold = dropout_keep_threshold(p);
  const int64_t blocks = (units + 3) / 4;
  parallel_for(blocks, 8192, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const auto r = kernels::philox4x32(seed, first_block + static_cast<uint64_t>(blk));
      const int64_t base = blk * 4;
      const int64_t count = std::min<int64_t>(4, units - base);
      for (int64_t k = 0; k < count; ++k) {
        mask[base + k] = kernels::philox_uniform(r.v[k]) < threshold ? 1 : 0;
      }
    }
  });
}

}  // namespace

void dropout_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p, uint64_t seed,
                     uint64_t first_block) {
  uint8_t* m = mask.data<uint8_t>();
  draw_mask(m, x.numel(), p, seed, first_block);
  dispatch_floating(x.dtype(), "dropout", [&]<typename T>() {
    apply_mask<T>(x.data<T>(), m, y.data<T>(), x.numel(), 1, static_cast<T>(1.0 / (1.0 - p)));
  });
}

void dropout_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale) {
  dispatch_floating(gy.dtype(), "dropout backward", [&]<typename T>() {
    apply_mask<T>(gy.data<T>(), mask.data<uint8_t>(), gx.data<T>(), gy.numel(), 1,
                  static_cast<T>(scale));
  });
}

void drop_path_forward(const Tensor& x, const Tensor& y, const Tensor& mask, double p,
                       uint64_t seed, uint64_t first_block) {
  const int64_t samples = x.shape()[0];
  uint8_t* m = mask.data<uint8_t>();
  draw_mask(m, samples, p, seed, first_block);
  const int64_t inner = samples == 0 ? 1 : std::max<int64_t>(1, x.numel() / samples);
  dispatch_floating(x.dtype(), "drop_path", [&]<typename T>() {
    apply_mask<T>(x.data<T>(), m, y.data<T>(), x.numel(), inner, static_cast<T>(1.0 / (1.0 - p)));
  });
}

void drop_path_backward(const Tensor& gy, const Tensor& mask, const Tensor& gx, double scale) {
  const int64_t samples = gy.shape()[0];
  const int64_t inner = samples == 0 ? 1 : std::max<int64_t>(1, gy.numel() / samples);
  dispatch_floating(gy.dtype(), "drop_path backward", [&]<typename T>() {
    apply_mask<T>(gy.data<T>(), mask.data<uint8_t>(), gx.data<T>(), gy.numel(), inner,
                  static_cast<T>(scale));
  });
}

}  // namespace fusenas::cpu
