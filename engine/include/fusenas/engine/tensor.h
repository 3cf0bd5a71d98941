// Tensor: a strided view of shared storage, with dtype, device and autograd metadata.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/device.h"
#include "fusenas/engine/dtype.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/shape.h"
#include "fusenas/engine/storage.h"

namespace fusenas {

class Node;
struct TensorImpl;
class Tensor;

// Autograd state; only allocated for tensors that take part in differentiation.
struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;         // null for leaves
  uint32_t output_nr = 0;                // which output of grad_fn this tensor is
  std::weak_ptr<Node> grad_accumulator;  // cached AccumulateGrad node of a leaf
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  Shape strides;  // in elements
  DType dtype = DType::Float32;
  std::unique_ptr<AutogradMeta> autograd;

  AutogradMeta& autograd_meta();
};

struct TensorOptions {
  DType dtype = DType::Float32;
  Device device = Device::cpu();
  bool requires_grad = false;

  TensorOptions& with_dtype(DType d) {
    dtype = d;
    return *this;
  }
  TensorOptions& with_device(Device d) {
    device = d;
    return *this;
  }
  TensorOptions& with_requires_grad(bool r = true) {
    requires_grad = r;
    return *this;
  }
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialised contiguous tensor.
  static Tensor empty(const Shape& shape, TensorOptions options = {});

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t axis) const;
  int64_t numel() const { return numel_of(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const;
  int64_t offset() const { return impl().offset; }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }
  TensorOptions options() const { return {dtype(), device(), false}; }

  // Pointer to the first element; checks the dtype.
  template <typename T>
  T* data() const {
    FUSENAS_CHECK(dtype_of<T> == dtype(), "tensor of dtype {} accessed as {}", dtype_name(dtype()),
                  dtype_name(dtype_of<T>));
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Element access for tests and small host-side logic (copies from the device when needed).
  double item() const;
  double at(const std::vector<int64_t>& index) const;
  template <typename T>
  std::vector<T> to_vector() const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool requires_grad = true);
  bool is_leaf() const;
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;
  void retain_grad() const;
  const std::shared_ptr<Node>& grad_fn() const;
  uint32_t output_nr() const;
  // Reverse-mode differentiation from this tensor. `grad` may be omitted only for one element.
  void backward(const Tensor& grad = {}, bool retain_graph = false) const;
  // Same storage, no autograd history.
  Tensor detach() const;

  // Views and copies (differentiable).
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor slice(int64_t axis, int64_t start, int64_t stop, int64_t step = 1) const;
  Tensor narrow(int64_t axis, int64_t start, int64_t length) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;

  // In-place updates of the data, never recorded by autograd (optimizers, initialisation).
  // These are const like the other handle methods: they change the data, not the handle.
  const Tensor& fill_(double value) const;
  const Tensor& copy_(const Tensor& src) const;
  const Tensor& add_(const Tensor& other, double alpha = 1.0) const;
  const Tensor& mul_(double factor) const;
  // Multiplies by `factor` broadcast to this shape (e.g. a 0-d tensor computed on the device).
  const Tensor& mul_(const Tensor& factor) const;

  std::string str() const;  // short description: shape, dtype, device
  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Creates a tensor that views `impl` storage with a new shape/strides/offset (no autograd).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

}  // namespace fusenas
