// Run set-up shared by the training and search runs.
#include "fusenas/nas/run/setup.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "fusenas/engine/cuda.h"
#include "fusenas/engine/data/cifar10.h"
#include "fusenas/engine/data/fashion_mnist.h"
#include "fusenas/engine/error.h"
#include "fusenas/engine/ops.h"
#include "fusenas/engine/threads.h"

namespace fusenas::nas {

Device pick_device(const std::string& name) {
  if (name == "auto") return cuda_available() ? Device::cuda() : Device::cpu();
  Device d;
  try {
    d = Device::parse(name);
  } catch (const Error&) {
    FUSENAS_FAIL("unknown device '{}' (use cpu, cuda, cuda:N or auto)", name);
  }
  FUSENAS_CHECK(d.is_cpu() || cuda_available(), "device {}: {}", name,
                built_with_cuda() ? "no CUDA device is visible" : "this build has no CUDA backend");
  return d;
}

void use_threads(int threads) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  set_num_threads(threads > 0 ? threads : static_cast<int>(cores));
}

data::Dataset load_dataset(const std::string& dataset, const std::string& dir, bool train) {
  FUSENAS_CHECK(std::filesystem::is_directory(dir), "{} dataset folder {} does not exist", dataset,
                dir);
  return dataset == "fashion-mnist" ? data::load_fashion_mnist(dir, train)
                                    : data::load_cifar10(dir, train);
}

data::TextCorpus load_corpus(const CorpusSection& c) {
  data::TextCorpus corpus;
  if (c.corpus == "ptb") {
    corpus = data::load_ptb(c.data_path);
  } else {
    data::TextOptions o;
    o.level = c.level == "char" ? data::TokenLevel::Char : data::TokenLevel::Word;
    o.max_vocab = c.level == "char" ? 0 : c.max_vocab;
    corpus = c.corpus == "fortunes" ? data::load_fortunes(c.data_path, o)
                                    : data::load_text_file(c.data_path, o);
  }
  if (c.train_tokens > 0 && c.train_tokens < corpus.train.numel())
    corpus.train = corpus.train.narrow(0, 0, c.train_tokens).contiguous();
  return corpus;
}

std::string default_run_dir(const std::string& kind) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  return fmt::format("runs/{}-{:%Y%m%d-%H%M%S}", kind, fmt::localtime(now));
}

std::string nas_train_command(const std::string& genotype_file, const std::string& dataset,
                              const std::string& data_dir, bool quick) {
  std::string cmd = fmt::format("nas_train --genotype {} --dataset {}", genotype_file, dataset);
  if (dataset != "fashion-mnist" || data_dir != data::kFashionMnistDir)
    cmd += " --data-dir " + data_dir;
  // A quick search is a CPU smoke run; train its cell at the matching small size.
  if (quick) cmd += " --init-channels 8 --layers 5 --epochs 1";
  return cmd;
}

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  const auto pred = argmax_last(logits.detach()).to(Device::cpu()).to_vector<int64_t>();
  const int64_t* y = labels.data<int64_t>();
  int64_t n = 0;
  for (size_t i = 0; i < pred.size(); ++i) n += pred[i] == y[i];
  return n;
}

}  // namespace fusenas::nas
