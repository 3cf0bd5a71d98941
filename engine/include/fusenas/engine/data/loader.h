// DataLoader: batches over a dataset (or a subset of it), shuffled per epoch, augmented, prepared
// ahead by a background thread, with a resumable position.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/data/transforms.h"

namespace fusenas::data {

struct Batch {
  Tensor images;                 // float32 [B, H, W, C], CPU
  Tensor labels;                 // int64 [B], CPU
  std::vector<int64_t> indices;  // dataset index of each sample
  int64_t epoch = 0;
  int64_t batch = 0;  // index within the epoch
};

struct LoaderConfig {
  int64_t batch_size = 64;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  TransformConfig transform;
  int64_t max_samples = 0;  // > 0: use only the first max_samples of the sample list (quick runs)
  int64_t prefetch = 3;     // batches prepared ahead by the worker thread; 0 = no thread
};

// Position of the next batch next() returns. Batches are a pure function of (config, samples,
// epoch, batch), so restoring this into an equally configured loader continues the exact
// sequence. The remaining fields are checked on restore to catch a mismatched configuration.
struct LoaderState {
  int64_t epoch = 0;
  int64_t batch = 0;
  uint64_t seed = 0;
  int64_t num_samples = 0;
  int64_t batch_size = 0;
};

struct LoaderStats {
  int64_t batches = 0;        // batches handed out since the last reset
  int64_t ready = 0;          // of which were already prepared when next() was called
  double wait_seconds = 0.0;  // total time next() spent waiting or preparing
  double max_wait_seconds = 0.0;
};

// Single consumer: next(), state(), set_state() and reset_stats() must be called from one thread
// at a time. next() never ends: after the last batch of an epoch comes batch 0 of the next one.
class DataLoader {
 public:
  // `indices` selects the samples (e.g. one side of split_train_val); nullopt means all of them.
  DataLoader(Dataset dataset, LoaderConfig config,
             std::optional<std::vector<int64_t>> indices = std::nullopt);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The next batch; rethrows, as fusenas::Error, anything that failed while preparing it.
  Batch next();

  int64_t num_samples() const { return static_cast<int64_t>(samples_.size()); }
  int64_t batches_per_epoch() const;
  LoaderState state() const;
  void set_state(const LoaderState& state);
  LoaderStats stats() const;
  void reset_stats();
  const Dataset& dataset() const { return dataset_; }
  const LoaderConfig& config() const { return config_; }

  // The sample order of an epoch (dataset indices), and the batch at a position; both are pure
  // functions of the configuration, safe to call from any thread.
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  Batch make_batch(const std::vector<int64_t>& order, int64_t epoch, int64_t batch) const;

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  void start_worker();
  void stop_worker();
  void worker_loop(int64_t epoch, int64_t batch);
  Batch next_sync();

  Dataset dataset_;
  LoaderConfig config_;
  std::vector<int64_t> samples_;
  int64_t epoch_ = 0;  // consumer position
  int64_t batch_ = 0;

  // Synchronous mode's cached epoch order (consumer thread only).
  int64_t sync_order_epoch_ = -1;
  std::vector<int64_t> sync_order_;

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Slot> queue_;  // batches in order, starting at the consumer position
  bool stop_ = false;
  std::thread worker_;
  LoaderStats stats_;
};

}  // namespace fusenas::data
