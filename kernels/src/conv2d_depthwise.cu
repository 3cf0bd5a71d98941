// Raw depthwise conv2d kernels (NHWC): one thread per (pixel, channel) with channels fastest, so
// activation loads coalesce; common square kernels are unrolled at compile time. The weight
// gradient sums per (pixel slab, tap, channel) in double, then adds the slabs in order.
#include <algorithm>

#include "common.cuh"
#include "conv2d_index.cuh"

namespace fusenas::kernels {
namespace {

using detail::output_of_tap;
using detail::Pixel;
using detail::split_pixel;

constexpr int kRowGroups = 8;  // weight-gradient block: (32 channels, kRowGroups pixel groups)

// KH/KW > 0 fix the kernel size at compile time; 0 reads it from the shape.
template <typename T, int KH, int KW>
__global__ void forward_kernel(Conv2dGeometry s, const T* x, const T* weight, const T* bias, T* y) {
  const int64_t kh = KH > 0 ? KH : s.kh, kw = KW > 0 ? KW : s.kw;
  const int64_t m = s.cout / s.cin;
  const int64_t total = s.n * s.ho * s.wo * s.cout;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const Pixel o = split_pixel(i, s.ho, s.wo, s.cout);
    const int64_t hb = o.y * s.stride_h - s.pad_h, wb = o.x * s.stride_w - s.pad_w;
    const T* wk = weight + o.ch * kh * kw;
    const T* img = x + o.n * s.h * s.w * s.cin + o.ch / m;
    T acc = bias ? bias[o.ch] : T(0);
#pragma unroll
    for (int64_t a = 0; a < kh; ++a) {
      const int64_t ih = hb + a * s.dilation_h;
      if (ih < 0 || ih >= s.h) continue;
#pragma unroll
      for (int64_t b = 0; b < kw; ++b) {
        const int64_t iw = wb + b * s.dilation_w;
        if (iw < 0 || iw >= s.w) continue;
        acc += wk[a * kw + b] * img[(ih * s.w + iw) * s.cin];
      }
    }
    y[i] = acc;
  }
}

// Gather form: each input element sums, over its channel's m output channels, the outputs whose
// windows read it (taps in increasing order, as the CPU's strided path does).
template <typename T, int KH, int KW>
__global__ void backward_input_kernel(Conv2dGeometry s, const T* gy, const T* weight, T* gx) {
  const int64_t kh = KH > 0 ? KH : s.kh, kw = KW > 0 ? KW : s.kw;
  const int64_t m = s.cout / s.cin;
  const int64_t total = s.n * s.h * s.w * s.cin;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const Pixel p = split_pixel(i, s.h, s.w, s.cin);
    const T* gimg = gy + p.n * s.ho * s.wo * s.cout;
    T total_acc = T(0);
    for (int64_t j = 0; j < m; ++j) {
      const int64_t k = p.ch * m + j;
      const T* wk = weight + k * kh * kw;
      T acc = T(0);
#pragma unroll
      for (int64_t a = 0; a < kh; ++a) {
        const int64_t oy = output_of_tap(p.y, a, s.stride_h, s.pad_h, s.dilation_h, s.ho);
        if (oy < 0) continue;
#pragma unroll
        for (int64_t b = 0; b < kw; ++b) {
          const int64_t ox = output_of_tap(p.x, b, s.stride_w, s.pad_w, s.dilation_w, s.wo);
          if (ox < 0) continue;
          acc += wk[a * kw + b] * gimg[(oy * s.wo + ox) * s.cout + k];
        }
      }
      total_acc += acc;
    }
    gx[i] = total_acc;
  }
}

int64_t pixels_per_slab(int64_t pixels) {
  return std::max<int64_t>(1024, (pixels + 65534) / 65535);  // slabs ride on grid.y
}
int64_t slabs_of(int64_t pixels) {
  return pixels == 0 ? 0 : (pixels + pixels_per_slab(pixels) - 1) / pixels_per_slab(pixels);
}

// partials[(slab * taps + t) * cout + k] = sum over the slab's output pixels of gy * x at tap t.
template <typename T>
__global__ void weight_partials_kernel(Conv2dGeometry s, int64_t slab_pixels, const T* gy,
                                       const T* x, double* partials) {
  __shared__ double part[kRowGroups][32];
  const int64_t k = blockIdx.x * int64_t(32) + threadIdx.x;
  const int64_t m = s.cout / s.cin;
  const int64_t pixels = s.n * s.ho * s.wo, taps = s.kh * s.kw;
  const int64_t p0 = blockIdx.y * slab_pixels, p1 = min(pixels, p0 + slab_pixels);
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t a = t / s.kw, b = t - a * s.kw;
    double acc = 0;
    if (k < s.cout) {
      for (int64_t p = p0 + threadIdx.y; p < p1; p += kRowGroups) {
        const int64_t ox = p % s.wo, oy = (p / s.wo) % s.ho, img = p / (s.wo * s.ho);
        const int64_t ih = oy * s.stride_h - s.pad_h + a * s.dilation_h;
        const int64_t iw = ox * s.stride_w - s.pad_w + b * s.dilation_w;
        if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
        acc += static_cast<double>(gy[p * s.cout + k]) *
               static_cast<double>(x[((img * s.h + ih) * s.w + iw) * s.cin + k / m]);
      }
    }
    part[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && k < s.cout) {
      double total = 0;
      for (int g = 0; g < kRowGroups; ++g) total += part[g][threadIdx.x];
      partials[(blockIdx.y * taps + t) * s.cout + k] = total;
    }
    __syncthreads();  // part is rewritten for the next tap
  }
}

// gw[k, t] = sum over slabs (in order) of the partials.
template <typename T>
__global__ void weight_final_kernel(int64_t slabs, int64_t taps, int64_t cout,
                                    const double* partials, T* gw) {
  for (int64_t i = detail::thread_index(); i < taps * cout; i += detail::thread_count()) {
    const int64_t k = i / taps, t = i - k * taps;
    double total = 0;
    for (int64_t sl = 0; sl < slabs; ++sl) total += partials[(sl * taps + t) * cout + k];
    gw[i] = static_cast<T>(total);
  }
}

// Calls fn.template operator()<KH, KW>() with the kernel size unrolled when it is a common one.
template <typename F>
cudaError_t with_kernel_size(const Conv2dGeometry& s, F&& fn) {
  if (s.kh == 3 && s.kw == 3) return fn.template operator()<3, 3>();
  if (s.kh == 5 && s.kw == 5) return fn.template operator()<5, 5>();
  if (s.kh == 7 && s.kw == 7) return fn.template operator()<7, 7>();
  return fn.template operator()<0, 0>();
}

bool valid(const Conv2dGeometry& s) {
  return s.cin > 0 && s.cout % s.cin == 0 && s.groups == s.cin;
}

}  // namespace

cudaError_t conv2d_depthwise_forward(ScalarType type, const Conv2dGeometry& s, const void* x,
                                     const void* weight, const void* bias, void* y,
                                     cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t total = s.n * s.ho * s.wo * s.cout;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    return with_kernel_size(s, [&]<int KH, int KW>() {
      forward_kernel<T, KH, KW><<<grid_for(total), detail::kThreads, 0, stream>>>(
          s, static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const T*>(bias),
          static_cast<T*>(y));
      return cudaGetLastError();
    });
  });
}

cudaError_t conv2d_depthwise_backward_input(ScalarType type, const Conv2dGeometry& s,
                                            const void* gy, const void* weight, void* gx,
                                            cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t total = s.n * s.h * s.w * s.cin;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    return with_kernel_size(s, [&]<int KH, int KW>() {
      backward_input_kernel<T, KH, KW><<<grid_for(total), detail::kThreads, 0, stream>>>(
          s, static_cast<const T*>(gy), static_cast<const T*>(weight), static_cast<T*>(gx));
      return cudaGetLastError();
    });
  });
}

int64_t conv2d_depthwise_weight_workspace(const Conv2dGeometry& s) {
  return slabs_of(s.n * s.ho * s.wo) * s.kh * s.kw * s.cout;
}

cudaError_t conv2d_depthwise_backward_weight(ScalarType type, const Conv2dGeometry& s,
                                             const void* gy, const void* x, void* gw,
                                             double* workspace, cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t taps = s.kh * s.kw, pixels = s.n * s.ho * s.wo;
  if (taps * s.cout == 0) return cudaSuccess;
  const int64_t slabs = slabs_of(pixels);
  return detail::with_float_type(type, [&]<typename T>() {
    if (slabs > 0) {
      const dim3 grid(static_cast<unsigned>((s.cout + 31) / 32), static_cast<unsigned>(slabs));
      weight_partials_kernel<<<grid, dim3(32, kRowGroups), 0, stream>>>(
          s, pixels_per_slab(pixels), static_cast<const T*>(gy), static_cast<const T*>(x),
          workspace);
    }
    weight_final_kernel<<<grid_for(taps * s.cout), detail::kThreads, 0, stream>>>(
        slabs, taps, s.cout, workspace, static_cast<T*>(gw));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
