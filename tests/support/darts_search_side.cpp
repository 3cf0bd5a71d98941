// make_search_side: builds a supernet, its SGD and its architect on the requested dtype/device.
#include "support/darts_search_side.h"

#include "fusenas/engine/factory.h"

namespace fusenas::testing {

SearchSide make_search_side(const nas::SearchSpace& space, const SearchSideOptions& options) {
  SearchSide s;
  Generator gen(options.seed);
  s.net = std::make_shared<nas::Supernet>(space, gen);
  s.net->to(options.dtype);
  s.net->arch().to(options.dtype);
  s.net->to_device(options.device);
  s.net->set_fused(options.fused);
  s.sgd = std::make_unique<optim::SGD>(s.net->parameters(), 0.025, 0.9, 3e-4);
  nas::ArchitectConfig ac = options.architect;
  ac.order = options.order;
  s.architect = std::make_unique<nas::Architect>(*s.net, *s.sgd, ac);
  return s;
}

}  // namespace fusenas::testing
