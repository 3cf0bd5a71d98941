// Tensor basics: construction, metadata, autograd accessors and host element access.
#include "fusenas/engine/tensor.h"

#include "fusenas/engine/autograd.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas {

AutogradMeta& TensorImpl::autograd_meta() {
  if (!autograd) autograd = std::make_unique<AutogradMeta>();
  return *autograd;
}

TensorImpl& Tensor::impl() const {
  FUSENAS_CHECK(impl_ != nullptr, "use of an undefined tensor");
  return *impl_;
}

Tensor Tensor::empty(const Shape& shape, TensorOptions options) {
  for (int64_t d : shape)
    FUSENAS_CHECK(d >= 0, "empty: negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(
      static_cast<size_t>(numel_of(shape)) * dtype_size(options.dtype), options.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  Tensor t(std::move(impl));
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t axis) const {
  return shape()[normalize_axis(axis, dim(), "size")];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element can be out of place
  const auto& sh = shape();
  const auto& st = strides();
  int64_t expected = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1) continue;
    if (st[i] != expected) return false;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl().storage->data()) +
         impl().offset * static_cast<int64_t>(dtype_size(dtype()));
}

double Tensor::item() const {
  FUSENAS_CHECK(numel() == 1, "item: tensor of shape {} has {} elements, expected 1",
                shape_str(shape()), numel());
  return at(Shape(dim(), 0));
}

double Tensor::at(const std::vector<int64_t>& index) const {
  FUSENAS_CHECK(static_cast<int64_t>(index.size()) == dim(), "at: index of rank {} for shape {}",
                index.size(), shape_str(shape()));
  int64_t off = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    FUSENAS_CHECK(index[i] >= 0 && index[i] < shape()[i], "at: index {} out of range for shape {}",
                  shape_str(index), shape_str(shape()));
    off += index[i] * strides()[i];
  }
  Tensor host = is_cuda() ? make_view(*this, {1}, {1}, offset() + off).to(Device::cpu())
                          : make_view(*this, {1}, {1}, offset() + off);
  switch (dtype()) {
    case DType::Float32:
      return *host.data<float>();
    case DType::Float64:
      return *host.data<double>();
    case DType::Int64:
      return static_cast<double>(*host.data<int64_t>());
    case DType::UInt8:
      return *host.data<uint8_t>();
    default:
      FUSENAS_FAIL("at: dtype {} not readable", dtype_name(dtype()));
  }
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = to(Device::cpu()).to(dtype_of<T>).contiguous();
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

bool Tensor::requires_grad() const {
  const auto& a = impl().autograd;
  return a && (a->requires_grad || a->grad_fn);
}

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  FUSENAS_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can change requires_grad");
  FUSENAS_CHECK(!requires_grad || is_floating(dtype()),
                "set_requires_grad: only floating tensors can require gradients, got {}",
                dtype_name(dtype()));
  impl().autograd_meta().requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const {
  const auto& a = impl().autograd;
  return !a || !a->grad_fn;
}

Tensor Tensor::grad() const {
  const auto& a = impl().autograd;
  return a && a->grad ? Tensor(a->grad) : Tensor();
}

void Tensor::set_grad(const Tensor& grad) const {
  if (grad.defined()) {
    FUSENAS_CHECK(grad.shape() == shape(),
                  "set_grad: gradient shape {} differs from tensor shape {}",
                  shape_str(grad.shape()), shape_str(shape()));
  }
  impl().autograd_meta().grad = grad.impl_ptr();
}

void Tensor::retain_grad() const {
  FUSENAS_CHECK(requires_grad(), "retain_grad: tensor of shape {} does not require grad",
                shape_str(shape()));
  auto& meta = impl().autograd_meta();
  if (!meta.grad_fn || meta.retains_grad) return;
  meta.retains_grad = true;
  auto& retained = meta.grad_fn->retained;
  if (retained.size() < meta.grad_fn->num_outputs()) retained.resize(meta.grad_fn->num_outputs());
  retained[meta.output_nr] = impl_;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  const auto& a = impl().autograd;
  return a ? a->grad_fn : none;
}

uint32_t Tensor::output_nr() const {
  const auto& a = impl().autograd;
  return a ? a->output_nr : 0;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward({*this}, {grad}, retain_graph);
}

Tensor Tensor::detach() const {
  return make_view(*this, shape(), strides(), offset());
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return fmt::format("Tensor({}, {}, {})", shape_str(shape()), dtype_name(dtype()), device().str());
}

}  // namespace fusenas
