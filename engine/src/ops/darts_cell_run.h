// One call of the fused DARTS cell: its plan (which op instances run, their batch norms, the
// node terms), the forward passes and, kept alive by the autograd node, the backward passes.
#pragma once

#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fusenas/engine/darts_cell.h"
#include "fusenas/kernels/darts_cell_plan.h"
#include "ops/darts_cell_stage.h"

namespace fusenas::cell_run {

namespace kc = kernels::cell;

// One active (edge, op) of the cell.
struct Instance {
  int edge = 0, node = 0, input = 0, op = 0;
  CellOpKind kind = CellOpKind::None;
  int kernel = 0, stride = 1;
  int count = 1;  // how often it is summed (one-shot sampling may pick it twice)
  kc::MixRef weight;
  int alpha_index = -1;
  int bn = -1;           // its own batch norm (a SepConv owns bn and bn + 1)
  int stats_bn = -1;     // the batch norm its node term reads (pools share one in training)
  int pool_leader = -1;  // pools: the instance whose chain pools this state (p1 is the map)
  const CellOpWeights* weights = nullptr;
  Tensor d1, d2;  // depthwise outputs kept for the weights' backward (CPU)
  Tensor p1, p2;  // raw chain outputs: stage 1 (SepConv, DilConv, FactorizedReduce; pools: the
                  // pooled map, shared by the edges that pool one state alike), stage 2
  Tensor fb_in, fb_out;  // Fallback: the input leaf and the module's output
};

class CellRun {
 public:
  CellRun(const DartsCellSpec& spec, const DartsCellWeights& weights,
          const CellSelection& selection, bool training, const CellFallback& fallback);

  // Computes the cell. With `record`, keeps what the backward needs.
  Tensor forward(const Tensor& s0, const Tensor& s1, bool record);
  // Input gradients {s0, s1, mixing} (undefined where not asked); accumulates the weights'
  // gradients into their .grad when `weight_grads`.
  std::vector<Tensor> backward(const Tensor& grad_out, bool need_s0, bool need_s1, bool need_mix,
                               bool weight_grads);

  // Whether any weight of an active op requires a gradient.
  bool weights_require_grad() const;

 private:
  // ---- plan ----
  void plan_instances();
  int wave_of(int state) const { return state < 2 ? 0 : state - 1; }
  kc::View state_view(int state) const;
  kc::Stats stats(int bn, int64_t channel_offset = 0) const;
  kc::View view_of(const Tensor& t, int64_t channel_offset = 0, int64_t channels = -1) const;
  // The node's terms, and for each the index of its instance.
  std::vector<kc::Term> node_terms(int node, std::vector<int>* instances = nullptr) const;
  CellBatchNorm bn_buffers(int bn) const;

  // ---- forward pieces ----
  void forward_preprocess();
  void forward_wave(int wave, bool record);
  void forward_node(int node);
  void fill_eval_stats();
  Tensor state_tensor(int state) const;

  // ---- backward pieces ----
  void backward_node_sums(int node);
  BackwardStage stage() const;  // an empty backward stage of this run
  void backward_wave(int wave);
  std::pair<Tensor, Tensor> backward_preprocess(bool need_s0, bool need_s1);
  void allocate_weight_grads();
  void finish_weight_grads();
  void* grad_of(const Tensor& param) const;
  Tensor node_grad_tensor(int node);
  kc::View node_grad(int node, int64_t channel_offset = 0, int64_t channels = -1);
  bool kept(int node) const {
    return selection_.node_in_output.empty() || selection_.node_in_output[node];
  }
  // Backward sums, per channel: slot of node i's sum of g, instance i's sum of g * y, a
  // SepConv's inner batch-norm sums, the preprocessing batch norms' sums.
  void* node_sum(int node) const { return sum_slot(node); }
  void* term_sum(int inst, int64_t off = 0) const { return sum_slot(spec_.nodes + inst, off); }
  void* inner_sum(int inst, int which) const {
    return sum_slot(spec_.nodes + static_cast<int>(inst_.size()) + 2 * inst + which);
  }
  void* pre_sum(int pre, int which, int64_t off = 0) const {
    return sum_slot(spec_.nodes + 3 * static_cast<int>(inst_.size()) + 2 * pre + which, off);
  }
  void* sum_slot(int slot, int64_t off = 0) const;

  DartsCellSpec spec_;
  DartsCellWeights weights_;
  // Keep the depthwise outputs for the pointwise weights' gradient instead of recomputing them:
  // set on the CPU when the forward records for weights that want gradients (memory is
  // plentiful there; CUDA recomputes, as it is bound by memory traffic).
  bool keep_spatial_ = false;
  CellSelection selection_;
  bool training_;
  CellFallback fallback_;

  // geometry
  int64_t n_ = 0, h_ = 0, w_ = 0, ho_ = 0, wo_ = 0, c_ = 0;
  DType dtype_ = DType::Float32;

  std::vector<Instance> inst_;
  int num_bn_ = 0;
  int pre0_bn_ = 0, pre1_bn_ = 1;

  // forward tensors
  Tensor s0_in_, s1_in_;  // the cell inputs (detached)
  Tensor s0_, s1_;        // preprocessed, normalised [N, H, W, C]
  Tensor out_;            // [N, H', W', nodes * C]
  Tensor node_scratch_;   // nodes left out of the output live here
  Tensor stats_;          // [bns, 2, C]: mean, invstd
  Tensor mix_;            // detached mixing weights (undefined: fixed weights)

  // backward state
  Tensor grad_out_;
  Tensor sums_;                  // the backward sums' slots, [slots, C]
  Tensor zero_grad_;             // the gradient of a last node left out of the output
  std::vector<Tensor> g_state_;  // per state: its gradient
  Tensor g_mix_;
  Tensor grad_slab_;  // the weights' gradients, when written fresh
  std::vector<std::pair<Tensor, int64_t>> slab_params_;   // param and its offset in grad_slab_
  std::unordered_map<const void*, int64_t> slab_offset_;  // by the param's TensorImpl
  bool weight_grads_ = false;
};

}  // namespace fusenas::cell_run
