// ENAS micro arch JSON: node inputs must be integers as written (found by fuzz_enas_arch's
// round-trip property: 1.9, true and 4294967298 were cast to 1, 1 and 2).
#include <gtest/gtest.h>

#include <string>

#include "fusenas/engine/error.h"
#include "fusenas/nas/enas/micro_arch.h"

namespace fusenas::nas::enas {
namespace {

std::string arch_with_input(const std::string& input) {
  return "{\"normal\": [[0, \"identity\", " + input +
         ", \"identity\"]], \"reduce\": [[0, \"identity\", 1, \"identity\"]]}";
}

TEST(EnasMicroArchJson, InputsThatAreNotIntegersAreRefused) {
  for (const std::string bad :
       {"1.9", "1.0", "true", "4294967297", "-2147483649", "\"1\"", "null"}) {
    try {
      MicroArch::from_json(arch_with_input(bad));
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("node 2 of 'normal' reads state"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(MicroArch::from_json(arch_with_input("1")).normal[0].input_b, 1);
}

}  // namespace
}  // namespace fusenas::nas::enas
