// The network a training config names, behind what the Trainer and the dry run need: a genotype's
// EvalNetwork (drop-path, auxiliary head) or the network of a chain, multibranch or zoph-le
// architecture.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "fusenas/engine/device.h"
#include "fusenas/engine/generator.h"
#include "fusenas/nas/eval_network.h"
#include "fusenas/nas/train/train_config.h"

namespace fusenas::nas {

struct TrainNetwork {
  std::shared_ptr<nn::Module> module;  // the weights, modes and checkpoints
  std::shared_ptr<EvalNetwork> cells;  // the same module for genotype networks; null otherwise
  int64_t params = 0;                  // auxiliary head excluded

  // A training step's logits, and the auxiliary logits when the genotype network has the head.
  EvalNetwork::Output forward_train(const Tensor& x, double drop_prob, Generator& gen) const;
};

// `config` must be resolved and valid.
TrainNetwork build_train_network(const TrainConfig& config, int64_t num_classes, Generator& gen);

// Throws before anything is allocated when a training step of the network cannot fit.
void check_train_network_fits(const TrainConfig& config, Device device);

// A chain, multibranch or zoph-le architecture at the config's width in its space's text form
// ("conv3x3x32/2 max_pool3x3").
std::string space_architecture_text(const TrainConfig& config);

// One line naming the architecture and its width, for the run log.
std::string describe_architecture(const TrainConfig& config);

// The network's summary (a line per cell, or per stem, layer and classifier), without the params
// line.
std::string network_summary(const TrainConfig& config, const TrainNetwork& net);

}  // namespace fusenas::nas
