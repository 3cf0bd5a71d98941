// Parameter counts of the evaluation network for every published cell against an independent
// PyTorch build of the same network (tests/support/oracle_ops/darts_network.py).
#include <gtest/gtest.h>

#include "fusenas/nas/eval_network.h"
#include "support/torch_oracle.h"

namespace fusenas::nas {
namespace {

TEST(EvalNetworkParity, ParameterCountsEqualPyTorchsForEveryPublishedCell) {
  std::vector<testing::OracleCase> cases;
  std::vector<int64_t> ours;
  for (const auto& arch : builtin_genotype_names()) {
    for (const auto& [c, layers, in] :
         std::vector<std::tuple<int, int, int>>{{36, 20, 3}, {8, 5, 1}}) {
      EvalNetworkConfig cfg;
      cfg.genotype = builtin_genotype(arch);
      cfg.init_channels = c;
      cfg.layers = layers;
      cfg.in_channels = in;
      cfg.image_size = in == 1 ? 28 : 32;
      Generator gen(0);
      ours.push_back(EvalNetwork(cfg, gen).num_parameters());
      cases.push_back({"darts_eval_param_count",
                       {{"genotype", cfg.genotype.to_text()},
                        {"C", c},
                        {"layers", layers},
                        {"classes", 10},
                        {"in_channels", in}},
                       {},
                       {},
                       {}});
    }
  }
  const auto results = testing::run_torch(cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(ours[i], static_cast<int64_t>(results[i].outputs[0].item()))
        << cases[i].params.dump();
  }
}

}  // namespace
}  // namespace fusenas::nas
