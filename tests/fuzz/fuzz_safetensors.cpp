// Fuzz target: the safetensors reader (io::load_safetensors), then a save/load round trip of
// what it accepts.
#include "fusenas/engine/factory.h"
#include "fusenas/engine/io/safetensors.h"
#include "fuzz_files.h"
#include "fuzz_target.h"

namespace fusenas::fuzz {

std::vector<std::string> seeds() {
  const std::string path = fresh_dir("seed") + "/t.safetensors";
  io::save_safetensors(path,
                       {{"w", from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3})},
                        {"steps", from_vector<int64_t>({7}, {1})},
                        {"bytes", from_vector<uint8_t>({1, 2, 3}, {3})},
                        {"d", from_vector<double>({0.5, -0.5}, {2, 1})},
                        {"scalar", from_vector<float>({1}, {})}},
                       {{"format", "pt"}});
  const std::string one = read_bytes(path);
  io::save_safetensors(path, {{"empty", from_vector<float>({}, {0, 4})}});
  return {one, read_bytes(path)};
}

std::vector<std::string> dictionary() {
  return {"\"dtype\"",
          "\"shape\"",
          "\"data_offsets\"",
          "\"__metadata__\"",
          "\"F32\"",
          "\"F64\"",
          "\"I64\"",
          "\"U8\"",
          "\"BF16\"",
          "\"F16\"",
          "[",
          "]",
          "{",
          "}",
          "-1",
          "18446744073709551615",
          "9223372036854775807",
          "4294967296"};
}

}  // namespace fusenas::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fusenas::fuzz;
  const std::string path = scratch_dir() + "/fuzz.safetensors";
  write_bytes(path, as_view(data, size));
  return run_parser([&] {
    const fusenas::io::SafetensorsFile f = fusenas::io::load_safetensors(path);
    std::vector<std::pair<std::string, fusenas::Tensor>> tensors(f.tensors.begin(),
                                                                 f.tensors.end());
    const std::string again = scratch_dir() + "/again.safetensors";
    fusenas::io::save_safetensors(again, tensors, f.metadata);
    const fusenas::io::SafetensorsFile g = fusenas::io::load_safetensors(again);
    expect(g.tensors.size() == f.tensors.size() && g.metadata == f.metadata,
           "a save/load round trip keeps every tensor and the metadata");
  });
}
