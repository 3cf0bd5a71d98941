// Tensor factories. Random tensors are drawn on the host from the explicit Generator, then moved,
// so a seed gives the same values on every device.
#include "fusenas/engine/factory.h"

#include <cstring>

#include "core/dispatch.h"

namespace fusenas {

Tensor full(const Shape& shape, double value, TensorOptions options) {
  const bool requires_grad = options.requires_grad;
  options.requires_grad = false;
  Tensor t = Tensor::empty(shape, options);
  t.fill_(value);
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions options) {
  return full(shape, 0.0, options);
}
Tensor ones(const Shape& shape, TensorOptions options) {
  return full(shape, 1.0, options);
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), t.options());
}
Tensor empty_like(const Tensor& t) {
  return Tensor::empty(t.shape(), t.options());
}

namespace {

// Fills a host tensor of `options.dtype` from draw(), then moves it to the target device.
template <typename Draw>
Tensor host_random(const Shape& shape, TensorOptions options, const char* op, Draw&& draw) {
  const Device device = options.device;
  const bool requires_grad = options.requires_grad;
  Tensor host = Tensor::empty(shape, options.with_device(Device::cpu()).with_requires_grad(false));
  dispatch_all(host.dtype(), op, [&]<typename T>() {
    T* p = host.data<T>();
    for (int64_t i = 0; i < host.numel(); ++i) p[i] = static_cast<T>(draw());
  });
  Tensor out = host.to(device);
  if (requires_grad) out.set_requires_grad(true);
  return out;
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, Generator& gen, TensorOptions options) {
  FUSENAS_CHECK(is_floating(options.dtype), "uniform: dtype must be floating");
  return host_random(shape, options, "uniform",
                     [&] { return low + (high - low) * gen.next_double(); });
}

Tensor normal(const Shape& shape, double mean, double stddev, Generator& gen,
              TensorOptions options) {
  FUSENAS_CHECK(is_floating(options.dtype), "normal: dtype must be floating");
  return host_random(shape, options, "normal", [&] { return mean + stddev * gen.next_normal(); });
}

Tensor randint(const Shape& shape, int64_t low, int64_t high, Generator& gen,
               TensorOptions options) {
  return host_random(shape, options, "randint", [&] { return gen.next_int(low, high); });
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  FUSENAS_CHECK(static_cast<int64_t>(values.size()) == numel_of(shape),
                "from_vector: {} values for shape {} ({} elements)", values.size(),
                shape_str(shape), numel_of(shape));
  Tensor src = from_blob(const_cast<T*>(values.data()), shape, dtype_of<T>);
  Tensor out = Tensor::empty(shape, TensorOptions{options.dtype, options.device, false});
  out.copy_(src);
  if (options.requires_grad) out.set_requires_grad(true);
  return out;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, TensorOptions);

Tensor from_blob(void* data, const Shape& shape, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(
      data, static_cast<size_t>(numel_of(shape)) * dtype_size(dtype), Device::cpu(), nullptr);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor scalar_tensor(double value, TensorOptions options) {
  return full({}, value, options);
}

}  // namespace fusenas
