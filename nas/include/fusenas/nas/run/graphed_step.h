// GraphedStep: a training step on a CUDA device replayed from CUDA graphs, one per input shape and
// variant, with eager steps where a graph cannot yet be (or must not be) used.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::nas {

// The first call for a key (the inputs' shapes and dtypes, and `variant`) runs the step eagerly:
// optimiser state is created there, outside any graph's memory pool. The second call captures a
// graph, whose warm-up run is that call's step, and later calls copy their inputs into the
// graph's own input tensors and replay it.
//
// A step must compute everything from its inputs and from device state: no host syncs, no host
// random draws, and no host scalar that changes between calls (optimisers keep their lr and step
// counts on the device; see Optimizer::keep_scalars_on_device). It returns the tensors the caller
// wants to read afterwards (undefined ones allowed); the caller gets copies, which later calls do
// not overwrite.
class GraphedStep {
 public:
  using Step = std::function<std::vector<Tensor>(const std::vector<Tensor>& inputs)>;

  // `inputs` may live on the host; they are copied to `device` (a CUDA device).
  explicit GraphedStep(Device device) : device_(device) {}

  std::vector<Tensor> run(const std::vector<Tensor>& inputs, int variant, const Step& step);
  // Forgets every graph and its memory: for when a host scalar a step bakes in has changed.
  void clear() { entries_.clear(); }

  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }

 private:
  struct Entry {
    std::vector<Tensor> inputs;   // the graph reads these
    std::vector<Tensor> outputs;  // and writes these, at the same addresses on every replay
    std::unique_ptr<cuda::Graph> graph;
  };

  Device device_;
  std::map<std::string, Entry> entries_;
  int64_t captures_ = 0, replays_ = 0;
};

}  // namespace fusenas::nas
