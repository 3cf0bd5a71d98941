// DataLoader: per-epoch shuffles, batch assembly, and the bounded prefetch queue fed by a worker.
#include "fusenas/engine/data/loader.h"

#include <chrono>
#include <numeric>

#include "fusenas/engine/error.h"
#include "fusenas/engine/generator.h"

namespace fusenas::data {
namespace {

constexpr uint64_t kShuffleStream = 0x73687566ULL;  // "shuf"

[[noreturn]] void rethrow_as_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    throw Error(e.what());  // a copy: the stored error stays sticky for later calls
  } catch (const std::exception& e) {
    throw Error(fmt::format("data loader worker failed: {}", e.what()));
  } catch (...) {
    throw Error("data loader worker failed with an unknown exception");
  }
}

}  // namespace

DataLoader::DataLoader(Dataset dataset, LoaderConfig config,
                       std::optional<std::vector<int64_t>> indices)
    : dataset_(std::move(dataset)), config_(std::move(config)) {
  dataset_.validate();
  FUSENAS_CHECK(config_.batch_size > 0, "DataLoader({}): batch size {} is not positive",
                dataset_.name, config_.batch_size);
  FUSENAS_CHECK(config_.prefetch >= 0 && config_.max_samples >= 0,
                "DataLoader({}): negative prefetch {} or max_samples {}", dataset_.name,
                config_.prefetch, config_.max_samples);
  const int64_t n = dataset_.size();
  if (indices) {
    samples_ = std::move(*indices);
    for (int64_t i : samples_) {
      FUSENAS_CHECK(i >= 0 && i < n, "DataLoader({}): sample index {} is outside [0, {})",
                    dataset_.name, i, n);
    }
  } else {
    samples_.resize(n);
    std::iota(samples_.begin(), samples_.end(), int64_t{0});
  }
  if (config_.max_samples > 0 && config_.max_samples < num_samples()) {
    samples_.resize(config_.max_samples);
  }
  FUSENAS_CHECK(batches_per_epoch() > 0, "DataLoader({}): {} samples make no batch of {}{}",
                dataset_.name, num_samples(), config_.batch_size,
                config_.drop_last ? " with drop_last" : "");
  if (config_.transform.mean.empty() && config_.transform.std.empty()) {
    config_.transform.mean = dataset_.mean;
    config_.transform.std = dataset_.std;
  }
  const ImageTransform check(config_.transform, dataset_.channels());  // rejects a bad config now
  (void)check;
  start_worker();
}

DataLoader::~DataLoader() {
  stop_worker();
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = num_samples(), b = config_.batch_size;
  return config_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order = samples_;
  if (config_.shuffle) {
    Generator gen(mix_seed(config_.seed, kShuffleStream, static_cast<uint64_t>(epoch)));
    for (int64_t i = static_cast<int64_t>(order.size()) - 1; i > 0; --i) {
      std::swap(order[i], order[gen.next_int(0, i + 1)]);
    }
  }
  return order;
}

Batch DataLoader::make_batch(const std::vector<int64_t>& order, int64_t epoch,
                             int64_t batch) const {
  FUSENAS_CHECK(batch >= 0 && batch < batches_per_epoch(),
                "DataLoader({}): batch {} is outside [0, {})", dataset_.name, batch,
                batches_per_epoch());
  const int64_t start = batch * config_.batch_size;
  const int64_t size = std::min(config_.batch_size, num_samples() - start);
  const int64_t h = dataset_.height(), w = dataset_.width(), c = dataset_.channels();
  const int64_t image = h * w * c;
  Batch out;
  out.epoch = epoch;
  out.batch = batch;
  out.images = Tensor::empty({size, h, w, c}, TensorOptions{}.with_dtype(DType::Float32));
  out.labels = Tensor::empty({size}, TensorOptions{}.with_dtype(DType::Int64));
  out.indices.assign(order.begin() + start, order.begin() + start + size);
  const ImageTransform transform(config_.transform, c);
  const uint8_t* src = dataset_.images.data<uint8_t>();
  const int64_t* labels = dataset_.labels.data<int64_t>();
  float* dst = out.images.data<float>();
  int64_t* dst_labels = out.labels.data<int64_t>();
  for (int64_t i = 0; i < size; ++i) {
    const int64_t idx = out.indices[i];
    SampleRandom rng(config_.seed, epoch, start + i);
    const AugmentParams params = draw_augment(config_.transform, h, w, rng);
    transform.apply(src + idx * image, h, w, params, dst + i * image);
    dst_labels[i] = labels[idx];
  }
  return out;
}

void DataLoader::start_worker() {
  if (config_.prefetch == 0) return;
  stop_ = false;
  worker_ = std::thread([this, epoch = epoch_, batch = batch_] { worker_loop(epoch, batch); });
}

void DataLoader::stop_worker() {
  if (!worker_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  not_full_.notify_all();
  worker_.join();
  std::lock_guard lock(mutex_);
  queue_.clear();
}

void DataLoader::worker_loop(int64_t epoch, int64_t batch) {
  // Only immutable members are read outside the lock; set_state joins this thread before it
  // changes anything.
  const int64_t per_epoch = batches_per_epoch();
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(
          lock, [&] { return stop_ || static_cast<int64_t>(queue_.size()) < config_.prefetch; });
      if (stop_) return;
    }
    Slot slot;
    try {
      if (order_epoch != epoch) {
        order = epoch_order(epoch);
        order_epoch = epoch;
      }
      slot.batch = make_batch(order, epoch, batch);
    } catch (...) {
      slot.error = std::current_exception();
    }
    const bool failed = slot.error != nullptr;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      queue_.push_back(std::move(slot));
    }
    not_empty_.notify_one();
    if (failed) return;  // the error stays at the queue's head for the consumer
    if (++batch == per_epoch) {
      batch = 0;
      ++epoch;
    }
  }
}

Batch DataLoader::next_sync() {
  if (sync_order_epoch_ != epoch_) {
    sync_order_ = epoch_order(epoch_);
    sync_order_epoch_ = epoch_;
  }
  return make_batch(sync_order_, epoch_, batch_);
}

Batch DataLoader::next() {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  Batch out;
  bool ready = false;
  if (config_.prefetch == 0) {
    out = next_sync();
  } else {
    std::unique_lock lock(mutex_);
    ready = !queue_.empty();
    not_empty_.wait(lock, [&] { return !queue_.empty(); });
    if (queue_.front().error) rethrow_as_error(queue_.front().error);
    out = std::move(queue_.front().batch);
    queue_.pop_front();
    lock.unlock();
    not_full_.notify_one();
  }
  if (++batch_ == batches_per_epoch()) {
    batch_ = 0;
    ++epoch_;
  }
  const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
  std::lock_guard lock(mutex_);
  stats_.batches += 1;
  stats_.ready += ready ? 1 : 0;
  stats_.wait_seconds += waited;
  stats_.max_wait_seconds = std::max(stats_.max_wait_seconds, waited);
  return out;
}

LoaderState DataLoader::state() const {
  return {epoch_, batch_, config_.seed, num_samples(), config_.batch_size};
}

void DataLoader::set_state(const LoaderState& state) {
  FUSENAS_CHECK(state.seed == config_.seed && state.num_samples == num_samples() &&
                    state.batch_size == config_.batch_size,
                "DataLoader({}): state is for seed {}, {} samples, batch {}; this loader has seed "
                "{}, {} samples, batch {}",
                dataset_.name, state.seed, state.num_samples, state.batch_size, config_.seed,
                num_samples(), config_.batch_size);
  FUSENAS_CHECK(state.epoch >= 0 && state.batch >= 0 && state.batch < batches_per_epoch(),
                "DataLoader({}): state position epoch {} batch {} is outside [0, {}) batches",
                dataset_.name, state.epoch, state.batch, batches_per_epoch());
  stop_worker();
  epoch_ = state.epoch;
  batch_ = state.batch;
  start_worker();
}

LoaderStats DataLoader::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void DataLoader::reset_stats() {
  std::lock_guard lock(mutex_);
  stats_ = {};
}

}  // namespace fusenas::data
