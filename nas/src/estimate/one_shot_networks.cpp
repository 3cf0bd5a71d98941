// The shared-weight network of each architecture space, and how a point of it runs there.
#include <memory>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/child_network.h"
#include "fusenas/nas/estimate/chain_supernet.h"
#include "fusenas/nas/estimate/one_shot.h"
#include "fusenas/nas/space/chain_space.h"
#include "fusenas/nas/space/darts_cell_space.h"
#include "fusenas/nas/space/multibranch_space.h"
#include "fusenas/nas/space/supernet.h"

namespace fusenas::nas::estimate {
namespace {

// ENAS's macro supernet with the space's depth and width: MacroNetwork (what the space builds)
// has the same structure with one op per layer, so a point's path computes its network.
SharedPaths multibranch_paths(const space::MultiBranchSpace& s, const space::ImageShape& shape,
                              Generator& gen) {
  enas::MacroSpace m;
  m.layers = s.options().layers;
  m.channels = s.options().channels;
  m.in_channels = shape.channels;
  m.num_classes = shape.classes;
  s.check_shape(shape);  // the supernet reduces where the space's networks do
  auto net = std::make_shared<enas::MacroSupernet>(m, gen);
  return {net, [net, &s](const space::Point& p, const Tensor& x) {
            return net->forward_sampled(x, s.arch(p));
          }};
}

// The DARTS supernet over the space's candidates, with EvalNetwork's stem (3C) and cell plan;
// a genotype is a one-shot choice (one op on two of each node's edges), which the fused
// darts_cell op computes from the chosen ops' counts.
SharedPaths darts_cell_paths(const space::DartsCellSpace& s, const space::ImageShape& shape,
                             Generator& gen) {
  FUSENAS_CHECK(shape.size % 4 == 0,
                "one-shot: the darts-cell image size must be a multiple of 4 (two reductions of "
                "even maps), got {}",
                shape.size);
  const space::DartsCellOptions& o = s.options();
  SearchSpace ss;
  ss.ops = o.ops;
  ss.nodes = o.nodes;
  ss.cells = o.cells;
  ss.channels = o.init_channels;
  ss.stem_multiplier = 3;  // EvalNetwork's
  ss.in_channels = shape.channels;
  ss.image_size = shape.size;
  ss.num_classes = shape.classes;
  auto net = std::make_shared<Supernet>(ss, gen);
  return {net, [net, &s](const space::Point& p, const Tensor& x) {
            const Genotype g = s.genotype(p);
            const SearchSpace& sp = net->space();
            return net->forward_sampled(x, cell_choice(sp, g.normal, g.normal_concat),
                                        cell_choice(sp, g.reduce, g.reduce_concat));
          }};
}

SharedPaths chain_paths(const space::ChainSpace& s, const space::ImageShape& shape,
                        Generator& gen) {
  auto net = std::make_shared<ChainSupernet>(s.options(), shape, gen);
  return {net, [net, &s](const space::Point& p, const Tensor& x) {
            return net->forward_sampled(x, s.arch(p));
          }};
}

}  // namespace

SharedPaths make_shared_paths(const space::ArchSpace& space, const space::ImageShape& shape,
                              Generator& gen) {
  shape.validate();
  if (const auto* m = dynamic_cast<const space::MultiBranchSpace*>(&space))
    return multibranch_paths(*m, shape, gen);
  if (const auto* d = dynamic_cast<const space::DartsCellSpace*>(&space))
    return darts_cell_paths(*d, shape, gen);
  if (const auto* c = dynamic_cast<const space::ChainSpace*>(&space))
    return chain_paths(*c, shape, gen);
  FUSENAS_FAIL(
      "one-shot scoring has no supernet for the {} space (it has one for multibranch, "
      "darts-cell and chain)",
      space.name());
}

}  // namespace fusenas::nas::estimate
