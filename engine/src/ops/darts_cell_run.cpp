// The fused DARTS cell's plan and forward: which op instances run and which batch norms they own,
// then preprocessing, and per wave (the states that become ready together) the first and second
// chain stages and the node that wave completes.
#include "ops/darts_cell_run.h"

#include <map>
#include <tuple>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "fusenas/engine/grad_mode.h"
#include "ops/darts_cell_backend.h"
#include "ops/darts_cell_tables.h"

namespace fusenas::cell_run {

CellRun::CellRun(const DartsCellSpec& spec, const DartsCellWeights& weights,
                 const CellSelection& selection, bool training, const CellFallback& fallback)
    : spec_(spec),
      weights_(weights),
      selection_(selection),
      training_(training),
      fallback_(fallback) {
  // Only a detached copy is kept: the autograd node owns this run, and must not own history.
  if (selection_.mixing.defined()) mix_ = selection_.mixing.detach().contiguous();
  selection_.mixing = Tensor();
  plan_instances();
}

void CellRun::plan_instances() {
  const int k_ops = static_cast<int>(spec_.ops.size());
  num_bn_ = 2;                                           // the two preprocessing batch norms
  std::map<std::tuple<int, int, int>, int> pool_groups;  // (input, kind, stride) -> leader
  for (int node = 0; node < spec_.nodes; ++node) {
    for (int input = 0; input < node + 2; ++input) {
      const int e = DartsCellSpec::edge_index(node, input);
      for (int k = 0; k < k_ops; ++k) {
        const CellOpSpec& op = spec_.ops[k];
        if (op.kind == CellOpKind::None) continue;
        const int count = selection_.counts.empty() ? 1 : selection_.counts[e][k];
        if (count == 0) continue;
        Instance in;
        in.edge = e;
        in.node = node;
        in.input = input;
        in.op = k;
        in.kind = op.kind;
        in.kernel = op.kernel;
        in.stride = spec_.reduction && input < 2 ? 2 : 1;
        in.weights = &weights_.edges[e][k];
        in.count = count;
        if (mix_.defined()) {
          in.weight.index = e * k_ops + k;
          in.alpha_index = e * k_ops + k;
        } else {
          in.weight.fixed = count;
        }
        switch (op.kind) {
          case CellOpKind::SepConv:
            in.bn = num_bn_;
            in.stats_bn = num_bn_ + 1;
            num_bn_ += 2;
            break;
          case CellOpKind::DilConv:
            in.bn = in.stats_bn = num_bn_++;
            break;
          case CellOpKind::Skip:
            if (in.stride == 2) in.bn = in.stats_bn = num_bn_++;
            break;
          case CellOpKind::MaxPool:
          case CellOpKind::AvgPool: {
            // Edges that pool one state alike share the pooled map and, in training, its batch
            // statistics; each keeps its own running statistics.
            in.bn = in.stats_bn = num_bn_++;
            const auto key = std::make_tuple(input, static_cast<int>(op.kind), in.stride);
            const auto it = pool_groups.find(key);
            if (it == pool_groups.end()) {
              in.pool_leader = static_cast<int>(inst_.size());
              pool_groups[key] = in.pool_leader;
            } else {
              in.pool_leader = it->second;
              if (training_) in.stats_bn = inst_[it->second].bn;
            }
            break;
          }
          case CellOpKind::None:
          case CellOpKind::Fallback:
            break;
        }
        inst_.push_back(std::move(in));
      }
    }
  }
}

bool CellRun::weights_require_grad() const {
  auto any = [](const CellOpWeights& w) {
    for (const Tensor& p : w.params)
      if (p.requires_grad()) return true;
    return false;
  };
  if (any(weights_.pre0) || any(weights_.pre1)) return true;
  for (const Instance& in : inst_)
    if (any(*in.weights)) return true;
  return false;
}

kc::View CellRun::view_of(const Tensor& t, int64_t channel_offset, int64_t channels) const {
  kc::View v;
  v.data = static_cast<char*>(t.raw_data()) + channel_offset * dtype_size(t.dtype());
  v.h = static_cast<int32_t>(t.size(1));
  v.w = static_cast<int32_t>(t.size(2));
  v.c = static_cast<int32_t>(channels < 0 ? t.size(3) : channels);
  v.row = static_cast<int32_t>(t.size(3));
  return v;
}

kc::View CellRun::state_view(int state) const {
  if (state == 0) return view_of(s0_);
  if (state == 1) return view_of(s1_);
  const int node = state - 2;
  const bool kept = selection_.node_in_output.empty() || selection_.node_in_output[node];
  return view_of(kept ? out_ : node_scratch_, node * c_, c_);
}

Tensor CellRun::state_tensor(int state) const {
  if (state == 0) return s0_;
  if (state == 1) return s1_;
  const int node = state - 2;
  const bool kept = selection_.node_in_output.empty() || selection_.node_in_output[node];
  return (kept ? out_ : node_scratch_).narrow(3, node * c_, c_);
}

kc::Stats CellRun::stats(int bn, int64_t channel_offset) const {
  char* base = static_cast<char*>(stats_.raw_data());
  const size_t elem = dtype_size(dtype_);
  return {base + (bn * 2 * c_ + channel_offset) * elem,
          base + (bn * 2 * c_ + c_ + channel_offset) * elem};
}

CellBatchNorm CellRun::bn_buffers(int bn) const {
  if (bn == pre0_bn_) return weights_.pre0.bns.at(0);
  if (bn == pre1_bn_) return weights_.pre1.bns.at(0);
  for (const Instance& in : inst_) {
    if (in.bn == bn) return in.weights->bns.at(0);
    if (in.kind == CellOpKind::SepConv && in.bn + 1 == bn) return in.weights->bns.at(1);
  }
  FUSENAS_FAIL("internal: darts_cell has no batch norm {}", bn);
}

std::vector<kc::Term> CellRun::node_terms(int node, std::vector<int>* instances) const {
  std::vector<kc::Term> terms;
  for (size_t i = 0; i < inst_.size(); ++i) {
    const Instance& in = inst_[i];
    if (in.node != node || in.kind == CellOpKind::None) continue;
    kc::Term t;
    t.weight = in.weight;
    t.alpha_index = in.alpha_index;
    switch (in.kind) {
      case CellOpKind::Skip:
        if (in.stride == 1) {
          t.src = state_view(in.input);
        } else {
          t.src = view_of(in.p1);
          t.stats = stats(in.stats_bn);
        }
        break;
      case CellOpKind::MaxPool:
      case CellOpKind::AvgPool:
        t.src = view_of(in.p1);
        t.stats = stats(in.stats_bn);
        break;
      case CellOpKind::SepConv:
        t.src = view_of(in.p2);
        t.stats = stats(in.stats_bn);
        break;
      case CellOpKind::DilConv:
        t.src = view_of(in.p1);
        t.stats = stats(in.stats_bn);
        break;
      case CellOpKind::Fallback:
        t.src = view_of(in.fb_out);
        break;
      case CellOpKind::None:
        break;
    }
    terms.push_back(t);
    if (instances) instances->push_back(static_cast<int>(i));
  }
  return terms;
}

void CellRun::fill_eval_stats() {
  std::vector<kc::RunningToStats> entries;
  for (int bn = 0; bn < num_bn_; ++bn) {
    const CellBatchNorm b = bn_buffers(bn);
    FUSENAS_CHECK(b.running_mean.defined() && b.running_var.defined(),
                  "darts_cell: evaluation mode needs running statistics for every batch norm");
    kc::RunningToStats e;
    e.running_mean = b.running_mean.raw_data();
    e.running_var = b.running_var.raw_data();
    e.stats = stats(bn);
    e.c = static_cast<int32_t>(c_);
    entries.push_back(e);
  }
  run_running_stats(out_, entries, spec_.bn_eps);
}

Tensor CellRun::forward(const Tensor& s0, const Tensor& s1, bool record) {
  dtype_ = s1.dtype();
  s0_in_ = s0.detach().contiguous();
  s1_in_ = s1.detach().contiguous();
  n_ = s1.size(0);
  h_ = s1.size(1);
  w_ = s1.size(2);
  c_ = spec_.channels;
  ho_ = spec_.reduction ? h_ / 2 : h_;
  wo_ = spec_.reduction ? w_ / 2 : w_;
  const TensorOptions opt = s1.options();
  s0_ = Tensor::empty({n_, h_, w_, c_}, opt);
  s1_ = Tensor::empty({n_, h_, w_, c_}, opt);
  out_ = Tensor::empty({n_, ho_, wo_, spec_.nodes * c_}, opt);
  if (!selection_.node_in_output.empty()) {
    for (bool kept : selection_.node_in_output) {
      if (!kept) {
        node_scratch_ = Tensor::empty(out_.shape(), opt);
        break;
      }
    }
  }
  stats_ = Tensor::empty({num_bn_, 2, c_}, opt);
  keep_spatial_ = record && !s1.is_cuda() && weights_require_grad();
  if (!training_) fill_eval_stats();
  forward_preprocess();
  for (int wave = 0; wave < spec_.nodes; ++wave) {
    forward_wave(wave, record);
    forward_node(wave);
  }
  if (node_scratch_.defined()) {
    for (int node = 0; node < spec_.nodes; ++node)
      if (!selection_.node_in_output[node]) out_.narrow(3, node * c_, c_).fill_(0);
  }
  // The autograd node will own this run: keep an alias without history, or the output's node
  // would own itself.
  Tensor result = out_;
  out_ = out_.detach();
  return result;
}

void CellRun::forward_preprocess() {
  ChainList chains;
  auto add_pre = [&](const Tensor& in, const Tensor& out, const CellOpWeights& w, int bn,
                     bool factorized) {
    const int halves = factorized ? 2 : 1;
    const int64_t part = c_ / halves;
    for (int half = 0; half < halves; ++half) {
      kc::SpatialStage sub;
      sub.kind = kc::Spatial::Subsample;
      sub.stride = factorized ? 2 : 1;
      sub.offset = half;
      kc::ChainForward ch = conv_chain(view_of(in), kc::Act::Relu, {}, sub, w.params.at(half),
                                       view_of(out, half * part, part), stats(bn, half * part));
      if (training_) set_running(ch, w.bns.at(0), 1, half * part);
      chains.add(ch);
    }
  };
  add_pre(s0_in_, s0_, weights_.pre0, pre0_bn_, spec_.reduction_prev);
  add_pre(s1_in_, s1_, weights_.pre1, pre1_bn_, false);
  run_chain_forward(out_, chains, n_, training_, spec_);
  kc::NormalizeLaunch norm;
  norm.batch = static_cast<int32_t>(n_);
  norm.count = 2;
  norm.x[0] = view_of(s0_);
  norm.x[1] = view_of(s1_);
  norm.stats[0] = stats(pre0_bn_);
  norm.stats[1] = stats(pre1_bn_);
  cell_backend::normalize(out_, norm);
}

void CellRun::forward_wave(int wave, bool record) {
  const TensorOptions opt = out_.options();
  ChainList stage1, stage2;
  std::map<int, int> group_chain;  // pool leader -> index of its chain
  for (Instance& in : inst_) {
    if (wave_of(in.input) != wave) continue;
    const kc::View src = state_view(in.input);
    switch (in.kind) {
      case CellOpKind::SepConv:
      case CellOpKind::DilConv: {
        const bool sep = in.kind == CellOpKind::SepConv;
        const std::vector<Tensor>& w = in.weights->params;
        in.p1 = Tensor::empty({n_, ho_, wo_, c_}, opt);
        kc::ChainForward first = conv_chain(src, kc::Act::Relu, {},
                                            depthwise(in.kernel, sep ? 1 : 2, in.stride, w.at(0)),
                                            w.at(1), view_of(in.p1), stats(in.bn));
        if (keep_spatial_) {
          in.d1 = Tensor::empty({n_, ho_, wo_, c_}, opt);
          first.keep = view_of(in.d1);
        }
        if (training_) set_running(first, in.weights->bns.at(0), in.count);
        stage1.add(first);
        if (sep) {
          in.p2 = Tensor::empty({n_, ho_, wo_, c_}, opt);
          kc::ChainForward second = conv_chain(view_of(in.p1), kc::Act::BnRelu, stats(in.bn),
                                               depthwise(in.kernel, 1, 1, w.at(2)), w.at(3),
                                               view_of(in.p2), stats(in.bn + 1));
          if (keep_spatial_) {
            in.d2 = Tensor::empty({n_, ho_, wo_, c_}, opt);
            second.keep = view_of(in.d2);
          }
          if (training_) set_running(second, in.weights->bns.at(1), in.count);
          stage2.add(second);
        }
        break;
      }
      case CellOpKind::Skip: {
        if (in.stride == 1) break;
        in.p1 = Tensor::empty({n_, ho_, wo_, c_}, opt);
        const int64_t part = c_ / 2;
        for (int half = 0; half < 2; ++half) {
          kc::SpatialStage sub;
          sub.kind = kc::Spatial::Subsample;
          sub.stride = 2;
          sub.offset = half;
          kc::ChainForward ch =
              conv_chain(src, kc::Act::Relu, {}, sub, in.weights->params.at(half),
                         view_of(in.p1, half * part, part), stats(in.bn, half * part));
          if (training_) set_running(ch, in.weights->bns.at(0), in.count, half * part);
          stage1.add(ch);
        }
        break;
      }
      case CellOpKind::MaxPool:
      case CellOpKind::AvgPool: {
        const CellBatchNorm b = in.weights->bns.at(0);
        const int self = static_cast<int>(&in - inst_.data());
        if (in.pool_leader == self) {
          in.p1 = Tensor::empty({n_, ho_, wo_, c_}, opt);
          kc::ChainForward ch;
          ch.in = src;
          ch.act = kc::Act::None;
          ch.spatial.kind =
              in.kind == CellOpKind::MaxPool ? kc::Spatial::MaxPool : kc::Spatial::AvgPool;
          ch.spatial.k = 3;
          ch.spatial.stride = in.stride;
          ch.spatial.pad = 1;
          ch.cout = static_cast<int32_t>(c_);
          ch.out = view_of(in.p1);
          ch.stats = stats(in.bn);
          if (training_) set_running(ch, b, in.count);
          group_chain[self] = stage1.add(ch);
        } else {
          in.p1 = inst_[in.pool_leader].p1;
          if (training_ && b.running_mean.defined()) {
            stage1.add_running(group_chain.at(in.pool_leader), in.count, b.running_mean.raw_data(),
                               b.running_var.raw_data());
          }
        }
        break;
      }
      case CellOpKind::Fallback: {
        FUSENAS_CHECK(static_cast<bool>(fallback_),
                      "darts_cell: op {} of edge {} needs the composed path, but no fallback was "
                      "given",
                      in.op, in.edge);
        const Tensor state = state_tensor(in.input).detach();
        if (record) {
          in.fb_in = state;
          in.fb_in.set_requires_grad(true);
          in.fb_out = fallback_(in.edge, in.op, in.fb_in).contiguous();
        } else {
          const NoGradGuard no_grad;
          in.fb_out = fallback_(in.edge, in.op, state).contiguous();
        }
        FUSENAS_CHECK(in.fb_out.shape() == Shape({n_, ho_, wo_, c_}),
                      "darts_cell: the fallback of op {} on edge {} gave shape {}, expected [{}, "
                      "{}, {}, {}]",
                      in.op, in.edge, shape_str(in.fb_out.shape()), n_, ho_, wo_, c_);
        break;
      }
      case CellOpKind::None:
        break;
    }
  }
  run_chain_forward(out_, stage1, n_, training_, spec_);
  run_chain_forward(out_, stage2, n_, training_, spec_);
}

void CellRun::forward_node(int node) {
  run_node_forward(out_, state_view(node + 2), mix_, node_terms(node), n_);
}

}  // namespace fusenas::cell_run
