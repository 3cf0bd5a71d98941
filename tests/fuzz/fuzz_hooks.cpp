// The hooks targets call: outcome notes (hashed into the driver's set) and the scratch folder.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "fuzz_driver.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {
namespace {

std::vector<Note> g_notes;

// FNV-1a over the message with digits, quoted values and paths skipped, so "label 11 of sample 3"
// and "label 200 of sample 9" are one outcome while each distinct check stays its own.
uint64_t outcome_hash(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  char quote = 0;
  bool in_path = false;
  size_t kept = 0;
  for (const char c : s) {
    // Paths are the input's choice (a tensor file name) or this process's scratch folder.
    if (in_path) {
      in_path = c != ' ' && c != ':';
      if (in_path) continue;
    } else if (c == '/') {
      in_path = true;
      continue;
    }
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (c == ';') break;  // nlohmann's parse errors go on with the bytes last read
    if (c >= '0' && c <= '9') continue;
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    if (++kept == 160) break;  // the tail of a long message mostly repeats the input
  }
  return h;
}

}  // namespace

void note(std::string_view outcome) {
  g_notes.push_back({outcome_hash(outcome), std::string(outcome.substr(0, 300))});
}

std::vector<Note> take_notes() {
  std::vector<Note> out;
  out.swap(g_notes);
  return out;
}

const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/fusenas-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    return pattern;
  }();
  return dir;
}

void remove_scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir(), ec);
}

}  // namespace fusenas::fuzz
