// What the driver reads back from the hooks (not part of a target's contract).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fusenas::fuzz {

struct Note {
  uint64_t hash;     // of the outcome without its numbers and quoted values
  std::string text;  // the start of the outcome, for --print-outcomes
};

// The outcomes noted since the last call.
std::vector<Note> take_notes();
void remove_scratch_dir();

}  // namespace fusenas::fuzz
