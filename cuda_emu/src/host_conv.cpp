// Host 2-D convolution math behind the cuDNN stand-in: window gathers plus OpenBLAS products.
#include "host_conv.h"

#include <cblas.h>

#include <cstddef>
#include <vector>

namespace fusenas::emu {
namespace {

// Each direction gathers, per pixel, a small "window" of doubles (zeros where padding or stride
// gaps fall) and dots it with filter rows packed the same way. The products then run on contiguous
// double arrays whatever the tensors' layouts, and padding is decided once per window.

int64_t offset(const Strides4& strides, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return i0 * strides[0] + i1 * strides[1] + i2 * strides[2] + i3 * strides[3];
}

int64_t taps(const ConvGeometry& g) {
  return g.kh * g.kw;
}

// Where the filter tap applied at (r, s) is stored: reversed for a true convolution.
int64_t filter_offset(const ConvGeometry& g, int64_t k, int64_t c, int64_t r, int64_t s) {
  if (g.flip) {
    r = g.kh - 1 - r;
    s = g.kw - 1 - s;
  }
  return offset(g.w_strides, k, c, r, s);
}

// Position of a window entry: (channel within group, r, s) flattened.
int64_t window_index(const ConvGeometry& g, int64_t channel, int64_t r, int64_t s) {
  return (channel * g.kh + r) * g.kw + s;
}

template <typename T>
void store(T* out, int64_t at, double value, Scaling scaling) {
  double result = scaling.alpha * value;
  if (scaling.beta != 0.0) result += scaling.beta * static_cast<double>(out[at]);
  out[at] = static_cast<T>(result);
}

// Row k: output channel k's filter over (input channel within group, r, s).
template <typename T>
std::vector<double> filter_rows_by_output(const ConvGeometry& g, const T* w) {
  const int64_t len = g.cin_per_group() * taps(g);
  std::vector<double> rows(static_cast<std::size_t>(g.cout * len));
  for (int64_t k = 0; k < g.cout; ++k) {
    for (int64_t c = 0; c < g.cin_per_group(); ++c) {
      for (int64_t r = 0; r < g.kh; ++r) {
        for (int64_t s = 0; s < g.kw; ++s) {
          rows[k * len + window_index(g, c, r, s)] = w[filter_offset(g, k, c, r, s)];
        }
      }
    }
  }
  return rows;
}

// Row c: the filter taps that read input channel c, over (output channel within group, r, s).
template <typename T>
std::vector<double> filter_rows_by_input(const ConvGeometry& g, const T* w) {
  const int64_t len = g.cout_per_group() * taps(g);
  std::vector<double> rows(static_cast<std::size_t>(g.cin * len));
  for (int64_t group = 0; group < g.groups; ++group) {
    for (int64_t kl = 0; kl < g.cout_per_group(); ++kl) {
      const int64_t k = group * g.cout_per_group() + kl;
      for (int64_t cl = 0; cl < g.cin_per_group(); ++cl) {
        const int64_t c = group * g.cin_per_group() + cl;
        for (int64_t r = 0; r < g.kh; ++r) {
          for (int64_t s = 0; s < g.kw; ++s) {
            rows[c * len + window_index(g, kl, r, s)] = w[filter_offset(g, k, cl, r, s)];
          }
        }
      }
    }
  }
  return rows;
}

// The input values output pixel (oh, ow) of image n reads in `group`; zero where padded.
template <typename T>
void gather_input_window(const ConvGeometry& g, const T* x, int64_t n, int64_t group, int64_t oh,
                         int64_t ow, double* window) {
  for (int64_t cl = 0; cl < g.cin_per_group(); ++cl) {
    const int64_t c = group * g.cin_per_group() + cl;
    for (int64_t r = 0; r < g.kh; ++r) {
      const int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
      const bool row_inside = ih >= 0 && ih < g.h;
      for (int64_t s = 0; s < g.kw; ++s) {
        const int64_t iw = ow * g.stride_w - g.pad_w + s * g.dil_w;
        const bool inside = row_inside && iw >= 0 && iw < g.w;
        *window++ = inside ? static_cast<double>(x[offset(g.x_strides, n, c, ih, iw)]) : 0.0;
      }
    }
  }
}

// The output index whose window put a tap at `scaled` = input index + pad - tap offset, if any:
// positions between strides or past the output edge were never read by the forward pass.
bool output_index(int64_t scaled, int64_t stride, int64_t size, int64_t& index) {
  if (scaled < 0 || scaled % stride != 0) return false;
  index = scaled / stride;
  return index < size;
}

// The output gradients that input pixel (ih, iw) of image n fed in `group`; zero for taps that
// never touched it.
template <typename T>
void gather_output_window(const ConvGeometry& g, const T* dy, int64_t n, int64_t group, int64_t ih,
                          int64_t iw, double* window) {
  for (int64_t kl = 0; kl < g.cout_per_group(); ++kl) {
    const int64_t k = group * g.cout_per_group() + kl;
    for (int64_t r = 0; r < g.kh; ++r) {
      int64_t oh = 0;
      const bool row_hit = output_index(ih + g.pad_h - r * g.dil_h, g.stride_h, g.ho, oh);
      for (int64_t s = 0; s < g.kw; ++s) {
        int64_t ow = 0;
        const bool hit = row_hit && output_index(iw + g.pad_w - s * g.dil_w, g.stride_w, g.wo, ow);
        *window++ = hit ? static_cast<double>(dy[offset(g.y_strides, n, k, oh, ow)]) : 0.0;
      }
    }
  }
}

// c (rows x cols, row-major) = a (rows x inner) * b^T, b being cols x inner: each entry is one
// window dotted with one packed filter row. OpenBLAS keeps this fast even in sanitizer builds.
void multiply_by_rows(const double* a, const double* b, int64_t rows, int64_t cols, int64_t inner,
                      double* c) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(rows),
              static_cast<blasint>(cols), static_cast<blasint>(inner), 1.0, a,
              static_cast<blasint>(inner), b, static_cast<blasint>(inner), 0.0, c,
              static_cast<blasint>(cols));
}

// sums (rows x cols) += a^T * b, with a (inner x rows) and b (inner x cols), all row-major.
void accumulate_transposed_product(const double* a, const double* b, int64_t rows, int64_t cols,
                                   int64_t inner, double* sums) {
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, static_cast<blasint>(rows),
              static_cast<blasint>(cols), static_cast<blasint>(inner), 1.0, a,
              static_cast<blasint>(rows), b, static_cast<blasint>(cols), 1.0, sums,
              static_cast<blasint>(cols));
}

}  // namespace

// The directions below work one image row at a time: the windows of every pixel in the row form
// a matrix, so one product covers the row, the group's channels and all taps.

template <typename T>
void conv_forward(const ConvGeometry& g, Scaling scaling, const T* x, const T* w, T* y) {
  const int64_t len = g.cin_per_group() * taps(g), kg = g.cout_per_group();
  const std::vector<double> rows = filter_rows_by_output(g, w);
  std::vector<double> windows(static_cast<std::size_t>(g.wo * len));
  std::vector<double> sums(static_cast<std::size_t>(g.wo * kg));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t group = 0; group < g.groups; ++group) {
      for (int64_t oh = 0; oh < g.ho; ++oh) {
        for (int64_t ow = 0; ow < g.wo; ++ow) {
          gather_input_window(g, x, n, group, oh, ow, windows.data() + ow * len);
        }
        multiply_by_rows(windows.data(), rows.data() + group * kg * len, g.wo, kg, len,
                         sums.data());
        for (int64_t ow = 0; ow < g.wo; ++ow) {
          for (int64_t kl = 0; kl < kg; ++kl) {
            const int64_t k = group * kg + kl;
            store(y, offset(g.y_strides, n, k, oh, ow), sums[ow * kg + kl], scaling);
          }
        }
      }
    }
  }
}

template <typename T>
void conv_backward_data(const ConvGeometry& g, Scaling scaling, const T* w, const T* dy, T* dx) {
  const int64_t len = g.cout_per_group() * taps(g), cg = g.cin_per_group();
  const std::vector<double> rows = filter_rows_by_input(g, w);
  std::vector<double> windows(static_cast<std::size_t>(g.w * len));
  std::vector<double> sums(static_cast<std::size_t>(g.w * cg));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t group = 0; group < g.groups; ++group) {
      for (int64_t ih = 0; ih < g.h; ++ih) {
        for (int64_t iw = 0; iw < g.w; ++iw) {
          gather_output_window(g, dy, n, group, ih, iw, windows.data() + iw * len);
        }
        multiply_by_rows(windows.data(), rows.data() + group * cg * len, g.w, cg, len, sums.data());
        for (int64_t iw = 0; iw < g.w; ++iw) {
          for (int64_t cl = 0; cl < cg; ++cl) {
            const int64_t c = group * cg + cl;
            store(dx, offset(g.x_strides, n, c, ih, iw), sums[iw * cg + cl], scaling);
          }
        }
      }
    }
  }
}

template <typename T>
void conv_backward_filter(const ConvGeometry& g, Scaling scaling, const T* x, const T* dy, T* dw) {
  const int64_t len = g.cin_per_group() * taps(g), kg = g.cout_per_group();
  std::vector<double> sums(static_cast<std::size_t>(g.cout * len), 0.0);
  std::vector<double> windows(static_cast<std::size_t>(g.wo * len));
  std::vector<double> grads(static_cast<std::size_t>(g.wo * kg));
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t group = 0; group < g.groups; ++group) {
      for (int64_t oh = 0; oh < g.ho; ++oh) {
        for (int64_t ow = 0; ow < g.wo; ++ow) {
          gather_input_window(g, x, n, group, oh, ow, windows.data() + ow * len);
          for (int64_t kl = 0; kl < kg; ++kl) {
            const int64_t k = group * kg + kl;
            grads[ow * kg + kl] = static_cast<double>(dy[offset(g.y_strides, n, k, oh, ow)]);
          }
        }
        accumulate_transposed_product(grads.data(), windows.data(), kg, len, g.wo,
                                      sums.data() + group * kg * len);
      }
    }
  }
  for (int64_t k = 0; k < g.cout; ++k) {
    for (int64_t c = 0; c < g.cin_per_group(); ++c) {
      for (int64_t r = 0; r < g.kh; ++r) {
        for (int64_t s = 0; s < g.kw; ++s) {
          store(dw, filter_offset(g, k, c, r, s), sums[k * len + window_index(g, c, r, s)],
                scaling);
        }
      }
    }
  }
}

template void conv_forward<float>(const ConvGeometry&, Scaling, const float*, const float*, float*);
template void conv_forward<double>(const ConvGeometry&, Scaling, const double*, const double*,
                                   double*);
template void conv_backward_data<float>(const ConvGeometry&, Scaling, const float*, const float*,
                                        float*);
template void conv_backward_data<double>(const ConvGeometry&, Scaling, const double*, const double*,
                                         double*);
template void conv_backward_filter<float>(const ConvGeometry&, Scaling, const float*, const float*,
                                          float*);
template void conv_backward_filter<double>(const ConvGeometry&, Scaling, const double*,
                                           const double*, double*);

}  // namespace fusenas::emu
