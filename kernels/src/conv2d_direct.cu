// Raw direct conv2d kernels for any groups (NHWC, [cout, kh, kw, cin / groups] weights): the
// float64 path, which cuDNN's NHWC algorithms do not cover well, and the per-channel bias add.
// One thread per output, input or weight element; no atomics, so results are deterministic.
#include "common.cuh"
#include "conv2d_index.cuh"

namespace fusenas::kernels {
namespace {

using detail::output_of_tap;
using detail::Pixel;
using detail::split_pixel;

template <typename T>
__global__ void forward_kernel(Conv2dGeometry s, const T* x, const T* weight, const T* bias, T* y) {
  const int64_t cin_g = s.cin / s.groups, cout_g = s.cout / s.groups;
  const int64_t total = s.n * s.ho * s.wo * s.cout;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const Pixel o = split_pixel(i, s.ho, s.wo, s.cout);
    const T* img = x + o.n * s.h * s.w * s.cin + (o.ch / cout_g) * cin_g;
    T acc = bias ? bias[o.ch] : T(0);
    for (int64_t a = 0; a < s.kh; ++a) {
      const int64_t ih = o.y * s.stride_h - s.pad_h + a * s.dilation_h;
      if (ih < 0 || ih >= s.h) continue;
      for (int64_t b = 0; b < s.kw; ++b) {
        const int64_t iw = o.x * s.stride_w - s.pad_w + b * s.dilation_w;
        if (iw < 0 || iw >= s.w) continue;
        const T* wt = weight + ((o.ch * s.kh + a) * s.kw + b) * cin_g;
        const T* in = img + (ih * s.w + iw) * s.cin;
        for (int64_t c = 0; c < cin_g; ++c) acc += wt[c] * in[c];
      }
    }
    y[i] = acc;
  }
}

template <typename T>
__global__ void backward_input_kernel(Conv2dGeometry s, const T* gy, const T* weight, T* gx) {
  const int64_t cin_g = s.cin / s.groups, cout_g = s.cout / s.groups;
  const int64_t total = s.n * s.h * s.w * s.cin;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const Pixel p = split_pixel(i, s.h, s.w, s.cin);
    const int64_t g = p.ch / cin_g, c = p.ch - g * cin_g;
    const T* gimg = gy + p.n * s.ho * s.wo * s.cout;
    T acc = T(0);
    for (int64_t a = 0; a < s.kh; ++a) {
      const int64_t oy = output_of_tap(p.y, a, s.stride_h, s.pad_h, s.dilation_h, s.ho);
      if (oy < 0) continue;
      for (int64_t b = 0; b < s.kw; ++b) {
        const int64_t ox = output_of_tap(p.x, b, s.stride_w, s.pad_w, s.dilation_w, s.wo);
        if (ox < 0) continue;
        const T* go = gimg + (oy * s.wo + ox) * s.cout;
        for (int64_t k = g * cout_g; k < (g + 1) * cout_g; ++k) {
          acc += weight[((k * s.kh + a) * s.kw + b) * cin_g + c] * go[k];
        }
      }
    }
    gx[i] = acc;
  }
}

template <typename T>
__global__ void backward_weight_kernel(Conv2dGeometry s, const T* gy, const T* x, T* gw) {
  const int64_t cin_g = s.cin / s.groups, cout_g = s.cout / s.groups;
  const int64_t total = s.cout * s.kh * s.kw * cin_g;
  for (int64_t i = detail::thread_index(); i < total; i += detail::thread_count()) {
    const int64_t c = i % cin_g, tap = (i / cin_g) % (s.kh * s.kw), k = i / (cin_g * s.kh * s.kw);
    const int64_t a = tap / s.kw, b = tap - a * s.kw;
    const int64_t ci = (k / cout_g) * cin_g + c;
    double acc = 0;
    for (int64_t img = 0; img < s.n; ++img) {
      for (int64_t oy = 0; oy < s.ho; ++oy) {
        const int64_t ih = oy * s.stride_h - s.pad_h + a * s.dilation_h;
        if (ih < 0 || ih >= s.h) continue;
        for (int64_t ox = 0; ox < s.wo; ++ox) {
          const int64_t iw = ox * s.stride_w - s.pad_w + b * s.dilation_w;
          if (iw < 0 || iw >= s.w) continue;
          acc += static_cast<double>(gy[((img * s.ho + oy) * s.wo + ox) * s.cout + k]) *
                 static_cast<double>(x[((img * s.h + ih) * s.w + iw) * s.cin + ci]);
        }
      }
    }
    gw[i] = static_cast<T>(acc);
  }
}

template <typename T>
__global__ void bias_kernel(int64_t rows, int64_t c, T* y, const T* bias) {
  for (int64_t i = detail::thread_index(); i < rows * c; i += detail::thread_count()) {
    y[i] += bias[i % c];
  }
}

bool valid(const Conv2dGeometry& s) {
  return s.groups > 0 && s.cin % s.groups == 0 && s.cout % s.groups == 0;
}

}  // namespace

cudaError_t conv2d_direct_forward(ScalarType type, const Conv2dGeometry& s, const void* x,
                                  const void* weight, const void* bias, void* y,
                                  cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t total = s.n * s.ho * s.wo * s.cout;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    forward_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const T*>(bias),
        static_cast<T*>(y));
    return cudaGetLastError();
  });
}

cudaError_t conv2d_direct_backward_input(ScalarType type, const Conv2dGeometry& s, const void* gy,
                                         const void* weight, void* gx, cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t total = s.n * s.h * s.w * s.cin;
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    backward_input_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(gy), static_cast<const T*>(weight), static_cast<T*>(gx));
    return cudaGetLastError();
  });
}

cudaError_t conv2d_direct_backward_weight(ScalarType type, const Conv2dGeometry& s, const void* gy,
                                          const void* x, void* gw, cudaStream_t stream) {
  if (!valid(s)) return cudaErrorInvalidValue;
  const int64_t total = s.cout * s.kh * s.kw * (s.cin / s.groups);
  if (total == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    backward_weight_kernel<<<grid_for(total), detail::kThreads, 0, stream>>>(
        s, static_cast<const T*>(gy), static_cast<const T*>(x), static_cast<T*>(gw));
    return cudaGetLastError();
  });
}

cudaError_t add_channel_bias(ScalarType type, int64_t rows, int64_t c, void* y, const void* bias,
                             cudaStream_t stream) {
  if (rows * c == 0) return cudaSuccess;
  return detail::with_float_type(type, [&]<typename T>() {
    bias_kernel<<<grid_for(rows * c), detail::kThreads, 0, stream>>>(rows, c, static_cast<T*>(y),
                                                                     static_cast<const T*>(bias));
    return cudaGetLastError();
  });
}

}  // namespace fusenas::kernels
