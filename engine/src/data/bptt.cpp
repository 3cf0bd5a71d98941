// Language-model batching: batchify and the truncated-BPTT window walk.
#include "fusenas/engine/data/bptt.h"

#include <algorithm>
#include <cmath>

#include "fusenas/engine/error.h"

namespace fusenas::data {
namespace {

void check_options(const BpttOptions& o) {
  FUSENAS_CHECK(o.bptt >= 2, "bptt: a window length of {} is below 2", o.bptt);
  FUSENAS_CHECK(o.p_full >= 0.0 && o.p_full <= 1.0, "bptt: p_full {} is outside [0, 1]", o.p_full);
  FUSENAS_CHECK(std::isfinite(o.stddev) && o.stddev >= 0.0,
                "bptt: stddev {} is not a finite number >= 0", o.stddev);
  FUSENAS_CHECK(o.min_length >= 1, "bptt: min_length {} is below 1", o.min_length);
  FUSENAS_CHECK(o.max_length == 0 || o.max_length >= o.min_length,
                "bptt: max_length {} is below min_length {} (0 means uncapped)", o.max_length,
                o.min_length);
}

}  // namespace

Tensor batchify(const Tensor& stream, int64_t batch_size) {
  FUSENAS_CHECK(stream.dim() == 1 && stream.dtype() == DType::Int64 && stream.device().is_cpu(),
                "batchify: the stream must be a 1-D int64 CPU tensor, got shape {} of {}",
                shape_str(stream.shape()), dtype_name(stream.dtype()));
  FUSENAS_CHECK(batch_size >= 1, "batchify: batch size {} is below 1", batch_size);
  const int64_t n = stream.numel();
  FUSENAS_CHECK(batch_size <= n, "batchify: batch size {} is larger than the stream's {} tokens",
                batch_size, n);
  const int64_t steps = n / batch_size;
  const Tensor src = stream.contiguous();
  const int64_t* in = src.data<int64_t>();
  Tensor out = Tensor::empty({steps, batch_size}, TensorOptions{}.with_dtype(DType::Int64));
  int64_t* o = out.data<int64_t>();
  for (int64_t b = 0; b < batch_size; ++b) {
    for (int64_t t = 0; t < steps; ++t) o[t * batch_size + b] = in[b * steps + t];
  }
  return out;
}

int64_t draw_bptt_length(const BpttOptions& options, Generator& gen) {
  check_options(options);
  const auto bptt = static_cast<double>(options.bptt);
  const double base = gen.next_double() < options.p_full ? bptt : bptt / 2.0;
  double drawn = options.stddev > 0.0 ? base + options.stddev * gen.next_normal() : base;
  drawn = std::clamp(drawn, -1e12, 1e12);  // a cast of a far-out double to int64 is undefined
  int64_t length = std::max(options.min_length, static_cast<int64_t>(drawn));
  if (options.max_length > 0) length = std::min(length, options.max_length);
  return length;
}

BpttIterator::BpttIterator(Tensor batched, const BpttOptions& options, Generator& gen,
                           int64_t start)
    : BpttIterator(std::move(batched), options, &gen, start) {}

BpttIterator::BpttIterator(Tensor batched, int64_t bptt, int64_t start)
    : BpttIterator(std::move(batched), BpttOptions{.bptt = bptt}, nullptr, start) {}

BpttIterator::BpttIterator(Tensor batched, const BpttOptions& options, Generator* gen,
                           int64_t start)
    : batched_(std::move(batched)), options_(options), gen_(gen), position_(start) {
  check_options(options_);
  FUSENAS_CHECK(batched_.dim() == 2 && batched_.dtype() == DType::Int64,
                "bptt: the batched data must be a 2-D int64 tensor [steps, batch], got shape {} "
                "of {}",
                shape_str(batched_.shape()), dtype_name(batched_.dtype()));
  FUSENAS_CHECK(steps() >= 2,
                "bptt: {} steps are too few (a window needs an input row and the "
                "target row after it)",
                steps());
  FUSENAS_CHECK(start >= 0 && start <= steps() - 1, "bptt: start row {} is outside [0, {}]", start,
                steps() - 1);
}

BpttWindow BpttIterator::next() {
  FUSENAS_CHECK(!done(), "bptt: no window left after row {} of {}", position_, steps());
  BpttWindow w;
  w.start = position_;
  w.drawn = gen_ != nullptr ? draw_bptt_length(options_, *gen_) : options_.bptt;
  w.length = std::min(w.drawn, steps() - 1 - position_);
  w.inputs = batched_.narrow(0, position_, w.length);
  w.targets = batched_.narrow(0, position_ + 1, w.length);
  position_ += w.length;
  return w;
}

int64_t BpttIterator::fixed_windows() const {
  return (steps() - 1 + options_.bptt - 1) / options_.bptt;
}

}  // namespace fusenas::data
