// The autograd engine: recording closures as graph nodes and running reverse mode over them.
#include "fusenas/engine/autograd.h"

#include <atomic>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "fusenas/engine/ops.h"

namespace fusenas {
namespace {

std::atomic<uint64_t> g_next_sequence_nr{0};

// A node whose backward is a closure written next to its op.
class ClosureNode final : public Node {
 public:
  ClosureNode(const char* name, uint32_t num_outputs, std::vector<bool> needs,
              std::vector<Shape> input_shapes, BackwardFn fn)
      : Node(name, num_outputs),
        needs_(std::move(needs)),
        input_shapes_(std::move(input_shapes)),
        fn_(std::move(fn)) {}

  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) override {
    FUSENAS_CHECK(fn_ != nullptr,
                  "backward through '{}' a second time: its saved tensors were freed; pass "
                  "retain_graph=true to the first backward",
                  name());
    std::vector<Tensor> grads = fn_(BackwardContext{grad_outputs, needs_});
    for (size_t i = 0; i < grads.size() && i < input_shapes_.size(); ++i) {
      FUSENAS_CHECK(
          !grads[i].defined() || grads[i].shape() == input_shapes_[i],
          "internal: backward of '{}' produced a gradient of shape {} for input {} of shape {}",
          name(), shape_str(grads[i].shape()), i, shape_str(input_shapes_[i]));
    }
    return grads;
  }
  void release() override { fn_ = nullptr; }

 private:
  std::vector<bool> needs_;
  std::vector<Shape> input_shapes_;
  BackwardFn fn_;
};

// Sink node of a leaf: adds the incoming gradient into leaf.grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf)
      : Node("AccumulateGrad", 1), leaf_(std::move(leaf)) {}

  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) override {
    const Tensor& g = grad_outputs[0];
    if (!g.defined()) return {};
    Tensor leaf(leaf_);
    Tensor existing = leaf.grad();
    if (existing.defined()) {
      existing.add_(g);
    } else if (g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
               g.offset() == 0) {
      // Nobody else holds this gradient or views its memory: keep it instead of copying.
      leaf.set_grad(g);
    } else {
      // A copy: the gradient may alias another tensor (e.g. add passes one gradient to both
      // inputs).
      leaf.set_grad(g.clone());
    }
    return {};
  }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

Edge edge_for(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  auto& meta = t.impl().autograd_meta();
  if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
  auto acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    meta.grad_accumulator = acc;
  }
  return {acc, 0};
}

}  // namespace

Node::Node(std::string name, uint32_t num_outputs)
    : name_(std::move(name)), num_outputs_(num_outputs), sequence_nr_(g_next_sequence_nr++) {}

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs) {
    if (t->defined() && t->requires_grad()) return true;
  }
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn backward, bool always) {
  if (!(always ? grad_enabled() : needs_grad(inputs))) return;
  std::vector<bool> needs(inputs.size());
  std::vector<Edge> edges(inputs.size());
  std::vector<Shape> shapes(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    edges[i] = edge_for(inputs[i]);
    needs[i] = edges[i].fn != nullptr;
    if (inputs[i].defined()) shapes[i] = inputs[i].shape();
  }
  auto node =
      std::make_shared<ClosureNode>(name, static_cast<uint32_t>(outputs.size()), std::move(needs),
                                    std::move(shapes), std::move(backward));
  node->next_edges = std::move(edges);
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto& meta = outputs[i].impl().autograd_meta();
    FUSENAS_CHECK(!meta.grad_fn, "{}: output {} already has a history", name, i);
    meta.grad_fn = node;
    meta.output_nr = static_cast<uint32_t>(i);
  }
}

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grad_roots,
                  bool retain_graph) {
  FUSENAS_CHECK(roots.size() == grad_roots.size(), "backward: {} roots but {} gradients",
                roots.size(), grad_roots.size());
  NoGradGuard no_grad;

  struct Pending {
    std::vector<Tensor> grads;
    int dependencies = 0;
  };
  std::unordered_map<Node*, Pending> pending;
  auto accumulate = [&](Node* node, uint32_t slot, Tensor g) {
    auto& p = pending[node];
    if (p.grads.empty()) p.grads.resize(node->num_outputs());
    Tensor& buf = p.grads[slot];
    buf = buf.defined() ? add(buf, g) : std::move(g);
  };

  std::vector<std::shared_ptr<Node>> root_nodes;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    FUSENAS_CHECK(root.defined() && root.requires_grad(),
                  "backward: the tensor does not require grad and has no grad_fn");
    Tensor g = grad_roots[i];
    if (!g.defined()) {
      FUSENAS_CHECK(root.numel() == 1,
                    "backward: a gradient must be given for a non-scalar output of shape {}",
                    shape_str(root.shape()));
      g = ones(root.shape(), root.options());
    }
    FUSENAS_CHECK(g.shape() == root.shape(),
                  "backward: gradient shape {} differs from output shape {}", shape_str(g.shape()),
                  shape_str(root.shape()));
    Edge e = edge_for(root);
    accumulate(e.fn.get(), e.input_nr, g);
    root_nodes.push_back(e.fn);
  }

  // Count, for every reachable node, how many edges point at it.
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (auto& r : root_nodes) {
    if (!seen[r.get()]) {
      seen[r.get()] = true;
      stack.push_back(r.get());
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.fn) continue;
      pending[e.fn.get()].dependencies++;
      if (!seen[e.fn.get()]) {
        seen[e.fn.get()] = true;
        stack.push_back(e.fn.get());
      }
    }
  }

  // Latest-recorded first among ready nodes: deterministic, and frees memory early.
  auto later = [](Node* a, Node* b) { return a->sequence_nr() < b->sequence_nr(); };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later)> ready(later);
  std::unordered_set<Node*> enqueued;
  for (auto& r : root_nodes) {
    if (pending[r.get()].dependencies == 0 && enqueued.insert(r.get()).second) ready.push(r.get());
  }

  // Keep every node alive until the pass ends even if a release drops the last owner.
  std::vector<std::shared_ptr<Node>> keep_alive = root_nodes;
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    std::vector<Tensor> grads = std::move(pending[node].grads);
    grads.resize(node->num_outputs());
    for (size_t i = 0; i < node->retained.size() && i < grads.size(); ++i) {
      if (auto impl = node->retained[i].lock(); impl && grads[i].defined()) {
        Tensor(impl).set_grad(grads[i].clone());
      }
    }
    std::vector<Tensor> input_grads = node->apply(grads);
    grads.clear();
    FUSENAS_CHECK(input_grads.empty() || input_grads.size() == node->next_edges.size(),
                  "internal: backward of '{}' returned {} gradients for {} inputs", node->name(),
                  input_grads.size(), node->next_edges.size());
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.fn) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        accumulate(e.fn.get(), e.input_nr, std::move(input_grads[i]));
      }
      auto& p = pending[e.fn.get()];
      if (--p.dependencies == 0) {
        keep_alive.push_back(e.fn);
        ready.push(e.fn.get());
      }
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace fusenas
