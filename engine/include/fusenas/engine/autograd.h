// Define-by-run reverse-mode autograd: graph nodes, edges, and the helper ops use to record
// themselves.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/tensor.h"

namespace fusenas {

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
};

// One recorded operation. Outputs' gradients flow in, inputs' gradients flow out along next_edges.
class Node {
 public:
  Node(std::string name, uint32_t num_outputs);
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // grad_outputs has one entry per output (undefined when that output got no gradient).
  // Returns one gradient per entry of next_edges (undefined where not needed).
  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) = 0;
  // Drops saved tensors once backward has run, so the graph's memory is freed.
  virtual void release() {}

  const std::string& name() const { return name_; }
  uint32_t num_outputs() const { return num_outputs_; }
  uint64_t sequence_nr() const { return sequence_nr_; }

  std::vector<Edge> next_edges;
  // Outputs that asked for retain_grad(); weak so the node does not keep them alive.
  std::vector<std::weak_ptr<TensorImpl>> retained;

 private:
  std::string name_;
  uint32_t num_outputs_;
  uint64_t sequence_nr_;
};

// What a backward closure receives.
struct BackwardContext {
  const std::vector<Tensor>& grad_outputs;
  const std::vector<bool>& needs_input_grad;

  const Tensor& grad(size_t output = 0) const { return grad_outputs[output]; }
  bool needs(size_t input) const { return needs_input_grad[input]; }
};

// Returns one gradient per input (undefined allowed for inputs that need none).
using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext&)>;

// True when grad mode is on and any input requires a gradient.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Records `outputs` as produced from `inputs` by op `name` when gradients are needed.
// The closure must capture only detached tensors (Tensor::detach) so the graph has no cycles.
// With `always`, records even when no input requires a gradient: for an op whose backward
// accumulates into leaves it does not list as inputs (the fused cell's weights).
void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward, bool always = false);

// Runs reverse mode from `roots` with the given output gradients.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph);

}  // namespace fusenas
