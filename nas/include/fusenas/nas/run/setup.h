// What every run (training, DARTS, ENAS) sets up the same way: the device, CPU threads, the
// dataset, the default run folder name, and counting correct predictions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "fusenas/engine/data/dataset.h"
#include "fusenas/engine/device.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::nas {

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when a device is visible); throws a clear error for an
// unknown name or a CUDA device this build or machine cannot provide.
Device pick_device(const std::string& name);
// threads > 0: that many engine threads; 0: one per core.
void use_threads(int threads);
// "fashion-mnist" or "cifar10" from `dir`; throws naming the folder when it is missing.
data::Dataset load_dataset(const std::string& dataset, const std::string& dir, bool train);
// runs/<kind>-<YYYYmmdd-HHMMSS>
std::string default_run_dir(const std::string& kind);
// Throws, naming --resume, unless `dir` can take a new run (holds no checkpoint yet).
void check_new_run_dir(const std::string& dir);
// <run_dir>/config.json, parsed; throws naming the file when it is missing or not JSON.
nlohmann::json read_run_config(const std::string& run_dir);
// Predictions (argmax of logits) equal to labels, a CPU int64 tensor.
int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace fusenas::nas
