// The activation lower bound of a DARTS-layout network, worked by hand, and the refusal message.
#include <gtest/gtest.h>

#include "fusenas/engine/error.h"
#include "fusenas/nas/run/memory_check.h"

namespace fusenas::nas {
namespace {

TEST(MemoryCheck, LowerBoundFollowsTheReductionsOfTheCellStack) {
  // 3 cells, reductions at 1 and 2: (4 ch, 8x8), (8 ch, 4x4), (16 ch, 2x2); 3 maps each, 2 images,
  // 4 bytes a float: 2*3*4 * (4*64 + 8*16 + 16*4) = 24 * 448 = 10752.
  EXPECT_DOUBLE_EQ(cell_stack_lower_bound_bytes(2, 8, 4, 3, 3), 10752.0);
  // Odd sizes round up when halved, as a stride-2 conv with padding does: 7 -> 4 -> 2.
  EXPECT_DOUBLE_EQ(cell_stack_lower_bound_bytes(1, 7, 1, 3, 1), 4.0 * (49 + 2 * 16 + 4 * 4));
}

TEST(MemoryCheck, RefusesWhatCannotFitWithTheFigures) {
  EXPECT_NO_THROW(check_fits_in_memory(1e3, Device::cpu(), "a tiny network"));
  try {
    check_fits_in_memory(1e18, Device::cpu(), "a huge network");
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("a huge network needs at least 1000000000.0 GB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lower bound"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace fusenas::nas
