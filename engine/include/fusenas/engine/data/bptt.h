// Language-model batching as AWD-LSTM and DARTS's RNN search do it: a token stream as batch_size
// parallel streams, read in truncated-BPTT windows of variable (training) or fixed (evaluation)
// length.
#pragma once

#include <cstdint>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::data {

// The stream (int64 [n], CPU) as an int64 [n / batch_size, batch_size] tensor, time-major as
// AWD-LSTM's batchify (data.view(bsz, -1).t()): column b is the b-th contiguous 1/batch_size of the
// stream, row t holds every column's t-th token, and the last n % batch_size tokens are dropped.
// Time-major makes a window a contiguous slice of rows.
Tensor batchify(const Tensor& stream, int64_t batch_size);

// AWD-LSTM's training window length rule (salesforce/awd-lstm-lm main.py, train()):
//   bptt' = bptt with probability p_full, else bptt / 2 (a real number);
//   length = max(min_length, int(N(bptt', stddev)))   (int() truncates toward zero).
// AWD-LSTM leaves the length uncapped; DARTS's rnn/train.py adds min(length, bptt + 20)
// (max_length = bptt + 20 here), and rnn/train_search.py draws no normal (stddev = 0 gives that).
struct BpttOptions {
  int64_t bptt = 35;
  double p_full = 0.95;
  double stddev = 5.0;
  int64_t min_length = 5;
  int64_t max_length = 0;  // 0: uncapped
};

// One draw of the rule above from `gen` (which it advances).
int64_t draw_bptt_length(const BpttOptions& options, Generator& gen);

struct BpttWindow {
  Tensor inputs;   // int64 [length, batch]: rows start .. start + length - 1 (a view)
  Tensor targets;  // int64 [length, batch]: rows start + 1 .. start + length (the next tokens)
  int64_t start = 0;
  int64_t length = 0;  // rows in this window: the drawn length, cut short at the data's end
  // The length the rule drew, before the cut. AWD-LSTM scales the step's lr by drawn / bptt (it
  // sets lr before get_batch truncates); length / bptt differs only in the last window.
  int64_t drawn = 0;
};

// Walks a batchify()-ed tensor from row `start` in windows that cover every input row once, in
// order: concatenated, the windows' inputs are rows [0, steps - 1) and their targets rows
// [1, steps). AWD-LSTM's training loop (`while i < n - 2`) skips a last window of one row; this
// walk keeps it. position() after a window is where the next one starts (with the Generator's
// state, a resume point for checkpoints).
class BpttIterator {
 public:
  // Training: lengths drawn by draw_bptt_length from `gen`, which must outlive the iterator.
  BpttIterator(Tensor batched, const BpttOptions& options, Generator& gen, int64_t start = 0);
  // Evaluation: fixed windows of bptt rows (AWD-LSTM's evaluate: range(0, n - 1, bptt)).
  BpttIterator(Tensor batched, int64_t bptt, int64_t start = 0);

  bool done() const { return position_ >= steps() - 1; }
  // The next window; throws fusenas::Error when done().
  BpttWindow next();
  int64_t position() const { return position_; }
  int64_t steps() const { return batched_.size(0); }
  // The number of windows a fixed-length walk from row 0 makes: ceil((steps - 1) / bptt).
  int64_t fixed_windows() const;

 private:
  BpttIterator(Tensor batched, const BpttOptions& options, Generator* gen, int64_t start);

  Tensor batched_;
  BpttOptions options_;
  Generator* gen_;  // null: fixed windows
  int64_t position_;
};

}  // namespace fusenas::data
