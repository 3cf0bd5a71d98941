// The chain-structured layer space as a black-box space: points are ChainArch JSON (chain_arch.h
// holds the rules), networks are ChainNetworks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/nas/space/chain_arch.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

class ChainSpace : public ArchSpace {
 public:
  explicit ChainSpace(ChainOptions options = {});

  std::string name() const override { return "chain"; }
  // A depth uniform in [1, max_layers]; per layer a type, kernel and filter count uniformly; a
  // stride of 2 with probability 1/2 while stride-2 layers remain (identity always 1).
  Point sample(Generator& gen) const override;
  // One decision, uniformly among those that have another valid value:
  // - the depth: append a sampled layer or drop the last one;
  // - a layer's type: a kernel and stride carry over, a conv's filter count is drawn when the
  //   new type has one and the old had none (it is dropped in the opposite case); identity is a
  //   candidate only for a stride-1 layer;
  // - a layer's kernel or filter count (another value from the options' list);
  // - a layer's stride (1 <-> 2; to 2 only while stride-2 layers remain).
  Point mutate(const Point& p, Generator& gen) const override;
  void validate(const Point& p) const override;
  // Per layer slot (max_layers of them): present, type one-hot, kernel one-hot, filters one-hot,
  // stride 2; all zero for an absent layer (and for the fields a type does not have). Then 4
  // summaries: layers / max_layers, conv layers / max_layers, stride-2 layers / max_reductions,
  // and the conv layers' filters / the widest choice, summed, / max_layers.
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override;
  std::string to_text(const Point& p) const override;
  std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                 Generator& gen) const override;
  int64_t count_parameters(const Point& p, const ImageShape& shape) const override;

  const ChainOptions& options() const { return options_; }
  // The point's architecture (validated).
  ChainArch arch(const Point& p) const;

 private:
  ChainLayer sample_layer(Generator& gen, bool may_reduce) const;

  ChainOptions options_;
};

}  // namespace fusenas::nas::space
