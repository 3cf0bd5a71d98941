// make_search_side: builds a supernet, its SGD and its architect on the requested dtype/device.
#include "support/darts_search_side.h"

#include <gtest/gtest.h>

#include "fusenas/engine/factory.h"
#include "support/torch_oracle.h"

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

void expect_sides_match(const SearchSide& got, const SearchSide& want, double tol) {
  auto on_cpu = [](const Tensor& t) { return t.to(Device::cpu()); };
  EXPECT_LE(max_relative_error(on_cpu(got.net->arch().normal), on_cpu(want.net->arch().normal)),
            tol)
      << "normal alphas";
  EXPECT_LE(max_relative_error(on_cpu(got.net->arch().reduce), on_cpu(want.net->arch().reduce)),
            tol)
      << "reduction alphas";
  const auto wg = got.net->named_parameters(), ww = want.net->named_parameters();
  ASSERT_EQ(wg.size(), ww.size());
  for (size_t i = 0; i < ww.size(); ++i) {
    EXPECT_LE(max_relative_error(on_cpu(wg[i].second), on_cpu(ww[i].second)), tol) << ww[i].first;
  }
  const auto bg = got.net->named_buffers(), bw = want.net->named_buffers();
  ASSERT_EQ(bg.size(), bw.size());
  for (size_t i = 0; i < bw.size(); ++i) {
    if (!is_floating(bw[i].second.dtype())) continue;
    EXPECT_LE(max_relative_error(on_cpu(bg[i].second), on_cpu(bw[i].second)), tol) << bw[i].first;
  }
}

}  // namespace fusenas::testing
