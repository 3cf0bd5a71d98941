// The fused DARTS cell's backward: nodes in reverse, each first reduced (batch-norm backward sums
// and the mixing weights' gradient), then the wave whose sources feed it taken back through its
// chains (second stage, first stage) and gathered into one gradient per source state; last the
// preprocessing. Weight gradients go to one slab, then into the weights' .grad.
#include <map>
#include <tuple>

#include "fusenas/engine/autograd.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/ops.h"
#include "ops/darts_cell_backend.h"
#include "ops/darts_cell_run.h"
#include "ops/darts_cell_tables.h"

namespace fusenas::cell_run {

void* CellRun::sum_slot(int slot, int64_t off) const {
  return offset_ptr(sums_, slot * c_ + off);
}

std::vector<Tensor> CellRun::backward(const Tensor& grad_out, bool need_s0, bool need_s1,
                                      bool need_mix, bool weight_grads) {
  grad_out_ = grad_out.detach().contiguous();
  weight_grads_ = weight_grads;
  const TensorOptions opt = out_.options();
  const int64_t slots = spec_.nodes + 3 * static_cast<int64_t>(inst_.size()) + 4;
  sums_ = Tensor::empty({slots, c_}, opt);
  if (need_mix && mix_.defined()) g_mix_ = zeros(mix_.shape(), opt);
  if (weight_grads_) allocate_weight_grads();
  g_state_.assign(spec_.nodes + 2, Tensor());
  for (int node = spec_.nodes - 1; node >= 0; --node) {
    backward_node_sums(node);
    backward_wave(node);
  }
  const auto [gs0, gs1] = backward_preprocess(need_s0, need_s1);
  if (weight_grads_) finish_weight_grads();
  return {gs0, gs1, g_mix_};
}

Tensor CellRun::node_grad_tensor(int node) {
  if (node < spec_.nodes - 1) return g_state_.at(node + 2);
  if (kept(node)) return grad_out_.narrow(3, node * c_, c_);
  if (!zero_grad_.defined()) zero_grad_ = zeros({n_, ho_, wo_, c_}, out_.options());
  return zero_grad_;
}

kc::View CellRun::node_grad(int node, int64_t channel_offset, int64_t channels) {
  const int64_t count = channels < 0 ? c_ : channels;
  if (node == spec_.nodes - 1 && kept(node))
    return view_of(grad_out_, node * c_ + channel_offset, count);
  const Tensor g = node_grad_tensor(node);
  FUSENAS_CHECK(g.defined(), "internal: darts_cell: node {}'s gradient is not ready", node);
  return view_of(g, channel_offset, count);
}

void CellRun::backward_node_sums(int node) {
  std::vector<int> owners;
  std::vector<kc::Term> terms = node_terms(node, &owners);
  for (size_t t = 0; t < terms.size(); ++t) terms[t].gx_sum = term_sum(owners[t]);
  run_node_sums(out_, node_grad(node), mix_, terms, node_sum(node), g_mix_, n_);
}

BackwardStage CellRun::stage() const {
  BackwardStage st;
  st.batch = n_;
  st.training = training_;
  st.mix = mix_.defined() ? mix_.raw_data() : nullptr;
  return st;
}

void CellRun::backward_wave(int wave) {
  const TensorOptions opt = out_.options();
  const Shape node_shape{n_, ho_, wo_, c_};
  std::vector<int> members;
  for (int i = 0; i < static_cast<int>(inst_.size()); ++i)
    if (wave_of(inst_[i].input) == wave) members.push_back(i);

  // Second stage of every SepConv, back to its first stage's batch-norm output (gb1).
  std::map<int, Tensor> gb1;
  BackwardStage second = stage();
  for (int i : members) {
    const Instance& in = inst_[i];
    if (in.kind != CellOpKind::SepConv) continue;
    const std::vector<Tensor>& w = in.weights->params;
    gb1[i] = Tensor::empty(node_shape, opt);
    kc::ChainBackward cb;
    cb.in = view_of(in.p1);
    cb.act = kc::Act::BnRelu;
    cb.act_stats = stats(in.bn);
    cb.spatial = depthwise(in.kernel, 1, 1, w.at(2));
    cb.pw = w.at(3).raw_data();
    cb.cout = static_cast<int32_t>(c_);
    cb.out = view_of(in.p2);
    cb.stats = stats(in.bn + 1);
    cb.g = node_grad(in.node);
    cb.scale = in.weight;
    cb.g_sum = node_sum(in.node);
    cb.gx_sum = term_sum(i);
    cb.pw_grad = grad_of(w.at(3));
    cb.dw_grad = grad_of(w.at(2));
    if (in.d2.defined()) cb.d = view_of(in.d2);
    second.chains.push_back(cb);
    GatherList::Target t;
    t.target.in = cb.in;
    t.target.act = kc::Act::BnRelu;
    t.target.act_stats = cb.act_stats;
    t.target.grad = view_of(gb1[i]);
    t.target.g_sum = inner_sum(i, 0);
    t.target.gx_sum = inner_sum(i, 1);
    t.chains.push_back({cb.spatial, {}, static_cast<int32_t>(second.chains.size() - 1)});
    second.gather.targets.push_back(std::move(t));
  }
  if (!second.chains.empty()) cell_backend::backward_stage(out_, second);

  // Fallback ops: their own graphs carry the gradient back to their input state; it joins the
  // first stage below as part of the state's base gradient.
  std::map<int, Tensor> fallback_grad;
  for (int i : members) {
    Instance& in = inst_[i];
    if (in.kind != CellOpKind::Fallback || !in.fb_out.defined() || !in.fb_out.requires_grad())
      continue;
    const Tensor g = node_grad_tensor(in.node);
    const Tensor scaled = mix_.defined()
                              ? mul(g, mix_.reshape({mix_.numel()}).narrow(0, in.weight.index, 1))
                              : scale(g, in.weight.fixed);
    run_backward({in.fb_out}, {scaled.contiguous()}, false);
    const Tensor gin = in.fb_in.grad();
    if (gin.defined()) {
      Tensor& acc = fallback_grad[in.input];
      acc = acc.defined() ? add(acc, gin) : gin.contiguous();
    }
    in.fb_out = Tensor();
    in.fb_in = Tensor();
  }

  // First stage of every chain from these sources, and every path's gradient into each source
  // state, once.
  BackwardStage first = stage();
  const std::vector<int> sources = wave == 0 ? std::vector<int>{0, 1} : std::vector<int>{wave + 1};
  for (int state : sources) {
    const int64_t h = state < 2 ? h_ : ho_, w = state < 2 ? w_ : wo_;
    g_state_[state] = Tensor::empty({n_, h, w, c_}, opt);
    GatherList::Target t;
    t.target.in = state_view(state);
    t.target.act = kc::Act::Relu;
    t.target.grad = view_of(g_state_[state]);
    const bool from_output = state >= 2 && kept(state - 2);
    if (fallback_grad.count(state)) {
      Tensor& base = fallback_grad[state];
      if (from_output) base = add(base, grad_out_.narrow(3, (state - 2) * c_, c_));
      t.target.base = view_of(base);
    } else if (from_output) {
      t.target.base = view_of(grad_out_, (state - 2) * c_, c_);
    }
    if (state < 2) {
      t.target.g_sum = pre_sum(state, 0);
      t.target.gx_sum = pre_sum(state, 1);
    }
    std::map<std::tuple<int, int>, size_t> pool_index;  // (kind, stride) -> entry of t.pools
    for (int i : members) {
      const Instance& in = inst_[i];
      if (in.input != state) continue;
      const std::vector<Tensor>& wts = in.weights->params;
      switch (in.kind) {
        case CellOpKind::SepConv:
        case CellOpKind::DilConv: {
          const bool sep = in.kind == CellOpKind::SepConv;
          kc::ChainBackward cb;
          cb.in = state_view(in.input);
          cb.act = kc::Act::Relu;
          cb.spatial = depthwise(in.kernel, sep ? 1 : 2, in.stride, wts.at(0));
          cb.pw = wts.at(1).raw_data();
          cb.cout = static_cast<int32_t>(c_);
          cb.out = view_of(in.p1);
          cb.stats = stats(in.bn);
          if (sep) {
            cb.g = view_of(gb1[i]);
            cb.g_sum = inner_sum(i, 0);
            cb.gx_sum = inner_sum(i, 1);
          } else {
            cb.g = node_grad(in.node);
            cb.scale = in.weight;
            cb.g_sum = node_sum(in.node);
            cb.gx_sum = term_sum(i);
          }
          cb.pw_grad = grad_of(wts.at(1));
          cb.dw_grad = grad_of(wts.at(0));
          if (in.d1.defined()) cb.d = view_of(in.d1);
          first.chains.push_back(cb);
          t.chains.push_back({cb.spatial, {}, static_cast<int32_t>(first.chains.size() - 1)});
          break;
        }
        case CellOpKind::Skip:
          if (in.stride == 1) {
            t.identities.push_back({node_grad(in.node), in.weight});
            break;
          }
          for (int half = 0; half < 2; ++half) {
            const int64_t part = c_ / 2;
            kc::ChainBackward cb;
            cb.in = state_view(in.input);
            cb.act = kc::Act::Relu;
            cb.spatial.kind = kc::Spatial::Subsample;
            cb.spatial.stride = 2;
            cb.spatial.offset = half;
            cb.pw = wts.at(half).raw_data();
            cb.cout = static_cast<int32_t>(part);
            cb.out = view_of(in.p1, half * part, part);
            cb.stats = stats(in.bn, half * part);
            cb.g = node_grad(in.node, half * part, part);
            cb.scale = in.weight;
            cb.g_sum = sum_slot(in.node, half * part);
            cb.gx_sum = term_sum(i, half * part);
            cb.pw_grad = grad_of(wts.at(half));
            first.chains.push_back(cb);
            t.chains.push_back({cb.spatial, {}, static_cast<int32_t>(first.chains.size() - 1)});
          }
          break;
        case CellOpKind::MaxPool:
        case CellOpKind::AvgPool: {
          const auto key = std::make_tuple(static_cast<int>(in.kind), in.stride);
          auto it = pool_index.find(key);
          if (it == pool_index.end()) {
            kc::GatherPool p;
            p.kind = in.kind == CellOpKind::MaxPool ? kc::PoolKind::Max : kc::PoolKind::Avg;
            p.stride = in.stride;
            p.pooled = view_of(in.p1);
            t.pools.push_back({p, {}});
            it = pool_index.emplace(key, t.pools.size() - 1).first;
          }
          kc::GatherPoolEdge edge;
          edge.g = node_grad(in.node);
          edge.weight = in.weight;
          edge.stats = stats(in.stats_bn);
          edge.g_sum = node_sum(in.node);
          edge.gx_sum = term_sum(i);
          t.pools[it->second].second.push_back(edge);
          break;
        }
        case CellOpKind::None:
        case CellOpKind::Fallback:
          break;
      }
    }
    first.gather.targets.push_back(std::move(t));
  }
  cell_backend::backward_stage(out_, first);
}

std::pair<Tensor, Tensor> CellRun::backward_preprocess(bool need_s0, bool need_s1) {
  if (!need_s0 && !need_s1 && !weight_grads_) return {};
  const TensorOptions opt = out_.options();
  BackwardStage pre = stage();
  auto add = [&](int which, const Tensor& in, const Tensor& out, const CellOpWeights& w, int bn,
                 bool factorized, bool need_input) {
    const int halves = factorized ? 2 : 1;
    const int64_t part = c_ / halves;
    GatherList::Target t;
    for (int half = 0; half < halves; ++half) {
      kc::ChainBackward cb;
      cb.in = view_of(in);
      cb.act = kc::Act::Relu;
      cb.spatial.kind = kc::Spatial::Subsample;
      cb.spatial.stride = factorized ? 2 : 1;
      cb.spatial.offset = half;
      cb.pw = w.params.at(half).raw_data();
      cb.cout = static_cast<int32_t>(part);
      cb.out = view_of(out, half * part, part);
      cb.out_normalized = 1;
      cb.stats = stats(bn, half * part);
      cb.g = view_of(g_state_[which], half * part, part);
      cb.g_sum = pre_sum(which, 0, half * part);
      cb.gx_sum = pre_sum(which, 1, half * part);
      cb.pw_grad = grad_of(w.params.at(half));
      pre.chains.push_back(cb);
      t.chains.push_back({cb.spatial, {}, static_cast<int32_t>(pre.chains.size() - 1)});
    }
    if (!need_input) return Tensor();
    Tensor grad = Tensor::empty(in.shape(), opt);
    t.target.in = view_of(in);
    t.target.act = kc::Act::Relu;
    t.target.grad = view_of(grad);
    pre.gather.targets.push_back(std::move(t));
    return grad;
  };
  const Tensor gs0 = add(0, s0_in_, s0_, weights_.pre0, pre0_bn_, spec_.reduction_prev, need_s0);
  const Tensor gs1 = add(1, s1_in_, s1_, weights_.pre1, pre1_bn_, false, need_s1);
  cell_backend::backward_stage(out_, pre);
  return {gs0, gs1};
}

void CellRun::allocate_weight_grads() {
  int64_t total = 0;
  auto collect = [&](const CellOpWeights& w) {
    for (const Tensor& p : w.params) {
      if (!p.requires_grad() || slab_offset_.count(p.impl_ptr().get())) continue;
      slab_offset_[p.impl_ptr().get()] = total;
      slab_params_.push_back({p, total});
      total += p.numel();
    }
  };
  collect(weights_.pre0);
  collect(weights_.pre1);
  for (const Instance& in : inst_) collect(*in.weights);
  grad_slab_ = Tensor::empty({total}, out_.options());
}

void* CellRun::grad_of(const Tensor& param) const {
  if (!weight_grads_) return nullptr;
  const auto it = slab_offset_.find(param.impl_ptr().get());
  return it == slab_offset_.end() ? nullptr : offset_ptr(grad_slab_, it->second);
}

void CellRun::finish_weight_grads() {
  for (const auto& [param, offset] : slab_params_) {
    const Tensor g = grad_slab_.narrow(0, offset, param.numel()).reshape(param.shape());
    const Tensor existing = param.grad();
    if (existing.defined()) {
      existing.add_(g);
    } else {
      param.set_grad(g);
    }
  }
  slab_params_.clear();
  slab_offset_.clear();
}

}  // namespace fusenas::cell_run
