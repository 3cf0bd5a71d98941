// `bench --suite lm`: recurrent language-model training-step timings beside a PyTorch peer.
// One truncated-BPTT step (nas_train --task lm's, rnn::lm_train_step) per recurrent cell; the
// peer is peers/lm_step.py.
#pragma once

#include <string>

#include "fusenas/engine/device.h"
#include "harness.h"

namespace fusenas::bench {

// Cells DARTS_V2, ENAS and ZOPH_LE at vocabulary 10000, hidden = embedding 200, batch 64,
// bptt 35 (`quick`: vocabulary 100, hidden 16, batch 4, bptt 5), plus a peer-only "torch LSTM"
// case (PyTorch's nn.LSTM in the same LM). The step: detached state, DARTS's dropouts, loss =
// cross-entropy + TAR, backward, gradient clipping, plain SGD with weight decay (nas_train's
// defaults). Prints median ms per step and tokens per second for both sides and their ratio.
// `filter`: a regex on case names (empty = all).
int run_lm_suite(Device device, int threads, const Options& options, bool peers, bool quick,
                 const std::string& json_path, const std::string& filter);

}  // namespace fusenas::bench
