// Run utilities: checkpoints round-trip modules, optimizers and RNG state; torn or missing
// checkpoints fail clearly; metrics files truncate back to a checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fusenas/engine/factory.h"
#include "fusenas/engine/nn/nn.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/optim/optim.h"
#include "fusenas/nas/run/checkpoint.h"
#include "fusenas/nas/run/run_dir.h"

namespace fusenas::nas {
namespace {

std::string temp_dir(const char* name) {
  auto d = std::filesystem::temp_directory_path() / (std::string("fusenas-") + name);
  std::filesystem::remove_all(d);
  return d.string();
}

TEST(Checkpoint, RoundTripsModuleOptimizerAndGenerator) {
  const std::string dir = temp_dir("ckpt");
  Generator gen(3);
  nn::Linear a(4, 3, gen), b(4, 3, gen);
  optim::SGD opt_a(a.parameters(), 0.1, 0.9);
  Tensor x = uniform({5, 4}, -1, 1, gen);
  sum(a.forward(x)).backward();
  opt_a.step();
  CheckpointWriter w;
  w.add_module("model", a);
  w.add_optimizer("sgd", opt_a);
  w.state()["rng"] = to_json(gen.state());
  w.save(dir);
  w.save(dir);  // a second save replaces the first pair
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    files += e.path().extension() == ".safetensors";
  EXPECT_EQ(files, 1);

  const auto r = CheckpointReader::load(dir);
  optim::SGD opt_b(b.parameters(), 0.1, 0.9);
  r.load_module("model", b);
  r.load_optimizer("sgd", opt_b);
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  Generator other(0);
  other.set_state(generator_state_from_json(r.state()["rng"]));
  EXPECT_EQ(other.next_u64(), gen.next_u64());
  // Both optimizers take the same next step.
  for (auto* m : {&a, &b}) {
    m->zero_grad();
    sum(m->forward(x)).backward();
  }
  opt_a.step();
  opt_b.step();
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, MissingTornOrForeignCheckpointsFailClearly) {
  const std::string dir = temp_dir("ckpt-bad");
  std::filesystem::create_directories(dir);
  try {
    CheckpointReader::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint"), std::string::npos) << e.what();
  }
  CheckpointWriter w;
  w.add_tensor("t", ones({3}));
  w.save(dir);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors") std::filesystem::resize_file(e.path(), 10);
  }
  try {
    CheckpointReader::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("torn"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/checkpoint.json") << "{not json";
  try {
    CheckpointReader::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint.json"), std::string::npos) << e.what();
  }
  Generator gen(1);
  nn::Linear small(2, 2, gen), big(3, 2, gen);
  CheckpointWriter w2;
  w2.add_module("model", small);
  w2.save(dir);
  try {
    CheckpointReader::load(dir).load_module("model", big);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(RunDir, JsonlTruncatesBackToACheckpoint) {
  RunDir run(temp_dir("run"));
  run.append_jsonl("metrics.jsonl", {{"epoch", 0}});
  const auto mark = run.size_of("metrics.jsonl");
  run.append_jsonl("metrics.jsonl", {{"epoch", 1}});
  run.truncate_to("metrics.jsonl", mark);
  std::ifstream in(run.file("metrics.jsonl"));
  std::string line, all;
  while (std::getline(in, line)) all += line + "|";
  EXPECT_EQ(all, "{\"epoch\":0}|");
  run.write_json("config.json", {{"a", 1}});
  EXPECT_TRUE(std::filesystem::exists(run.file("config.json")));
  std::filesystem::remove_all(run.path());
}

}  // namespace
}  // namespace fusenas::nas
