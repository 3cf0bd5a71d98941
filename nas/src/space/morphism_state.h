// Internal to the morphisms: a network's parameters and buffers as host float64 arrays by name, the
// edits morphisms make to them (copy slices along an axis, zero-pad kernels), and the hand-over of
// such a state to a freshly built child network.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"
#include "fusenas/nas/space/morphism.h"

namespace fusenas::nas::space::morph {

struct HostTensor {
  Shape shape;
  std::vector<double> v;  // row-major (contiguous) values
};
using HostState = std::map<std::string, HostTensor>;

// Parameters and buffers by dotted name, converted to float64 on the host (exact for float32).
HostState read_state(const nn::Module& m);

// out[..., j, ...] = in[..., from[j], ...] * scale[j] along `axis` (scale empty: 1).
HostTensor gather(const HostTensor& t, int axis, const std::vector<int64_t>& from,
                  const std::vector<double>& scale = {});
// A [O, k, k, I] weight zero-padded to [O, k2, k2, I], the old taps at the centre.
HostTensor pad_kernel(const HostTensor& t, int64_t k2);

// The state entry `name`, with a clear error when the parent lacks it.
const HostTensor& entry(const HostState& s, const std::string& name, std::string_view what);

// Turns `child` (freshly built, float32 on the CPU) into `parent`'s dtype, loads `inherited` into
// it, then moves it to the parent's device and mode. Every inherited key must exist in the child
// with the same shape; with `complete`, every key of the child must be inherited too (otherwise
// the ones left out keep their fresh values). Converting the dtype before loading keeps float64
// values exact.
void hand_over(nn::Module& child, const nn::Module& parent, const HostState& inherited,
               bool complete, std::string_view what);

// Picks one morphism uniformly; throws naming `what` when the list is empty.
Morphism pick(const std::vector<Morphism>& ms, Generator& gen, std::string_view what);

}  // namespace fusenas::nas::space::morph
