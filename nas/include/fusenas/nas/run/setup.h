// What every run (training, DARTS, ENAS) sets up the same way: the device, CPU threads, the
// dataset, the default run folder name, and counting correct predictions.
#pragma once

#include <cstdint>
#include <string>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/data/text_corpus.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/tensor.h"
#include "fusenas/nas/run/config_sections.h"

namespace fusenas::nas {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when a device is visible); throws a clear error for an
// unknown name or a CUDA device this build or machine cannot provide.
Device pick_device(const std::string& name);
// threads > 0: that many engine threads; 0: one per core.
void use_threads(int threads);
// "fashion-mnist" or "cifar10" from `dir`; throws naming the folder when it is missing.
data::Dataset load_dataset(const std::string& dataset, const std::string& dir, bool train);
// The corpus a language-modelling run names (resolved), read and split; train cut to
// train_tokens when that is set.
data::TextCorpus load_corpus(const CorpusSection& corpus);
// runs/<kind>-<YYYYmmdd-HHMMSS>
std::string default_run_dir(const std::string& kind);
// The nas_train command line that trains the genotype in `genotype_file` on the dataset a search
// used; `quick` (a CPU smoke search) adds a matching small network and one epoch.
std::string nas_train_command(const std::string& genotype_file, const std::string& dataset,
                              const std::string& data_dir, bool quick);
// Predictions (argmax of logits) equal to labels, a CPU int64 tensor.
int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace fusenas::nas
