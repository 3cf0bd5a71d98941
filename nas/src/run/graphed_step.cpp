// GraphedStep: eager first call, capture on the second, replays after, per shape and variant.
#include "fusenas/nas/run/graphed_step.h"

#include <fmt/format.h>

#include "fusenas/engine/error.h"
#include "fusenas/engine/grad_mode.h"

namespace fusenas::nas {
namespace {

std::vector<Tensor> detached(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.defined() ? t.detach() : Tensor());
  return out;
}

}  // namespace

std::vector<Tensor> GraphedStep::run(const std::vector<Tensor>& inputs, int variant,
                                     const Step& step) {
  FUSENAS_CHECK(device_.is_cuda(), "GraphedStep: needs a CUDA device, got {}", device_.str());
  std::string key = std::to_string(variant);
  for (const Tensor& t : inputs)
    key += fmt::format("|{}{}", dtype_name(t.dtype()), shape_str(t.shape()));

  auto it = entries_.find(key);
  if (it == entries_.end()) {
    std::vector<Tensor> on_device;
    for (const Tensor& t : inputs) on_device.push_back(t.device() == device_ ? t : t.to(device_));
    std::vector<Tensor> out = detached(step(on_device));
    entries_.emplace(key, Entry{});
    return out;
  }

  Entry& e = it->second;
  {
    const NoGradGuard no_grad;
    if (e.inputs.empty()) {
      for (const Tensor& t : inputs) {
        e.inputs.push_back(Tensor::empty(t.shape(), t.options().with_device(device_)));
      }
    }
    for (size_t i = 0; i < inputs.size(); ++i) e.inputs[i].copy_(inputs[i]);
  }
  if (!e.graph) {
    auto graph = std::make_unique<cuda::Graph>(device_.index);
    // The warm-up run is this call's real step; the captured run only records.
    std::vector<std::vector<Tensor>> runs;
    graph->capture([&] { runs.push_back(detached(step(e.inputs))); }, 1);
    FUSENAS_CHECK(runs.size() == 2, "GraphedStep: expected a warm-up and a captured run, got {}",
                  runs.size());
    e.outputs = runs[1];
    e.graph = std::move(graph);
    ++captures_;
    return runs[0];
  }
  e.graph->replay();
  ++replays_;
  const NoGradGuard no_grad;
  std::vector<Tensor> out;
  for (const Tensor& t : e.outputs) out.push_back(t.defined() ? t.clone() : Tensor());
  return out;
}

}  // namespace fusenas::nas
