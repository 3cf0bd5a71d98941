// The evaluation network of the DARTS paper: a stem, a stack of cells built from a genotype with
// reductions at 1/3 and 2/3 of depth, an optional auxiliary head, global pooling and a classifier.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fusenas/engine/nn/nn.h"
#include "fusenas/nas/genotype.h"

namespace fusenas::nas {

struct EvalNetworkConfig {
  Genotype genotype;
  int64_t in_channels = 3;  // 1 for Fashion-MNIST
  int64_t image_size = 32;  // 28 or 32
  int64_t num_classes = 10;
  int64_t init_channels = 36;
  int layers = 20;
  bool auxiliary = false;
};

// One cell of the evaluation network: preprocessing, the genotype's ops, concat of chosen nodes.
class EvalCell : public nn::Module {
 public:
  EvalCell(const Genotype& genotype, int64_t c_prev_prev, int64_t c_prev, int64_t c, bool reduction,
           bool reduction_prev, Generator& gen);
  std::string type_name() const override { return "EvalCell"; }
  // drop_prob > 0 applies drop-path to every non-identity op output (training only).
  Tensor forward_cell(const Tensor& s0, const Tensor& s1, double drop_prob, Generator& gen);
  int64_t multiplier() const { return static_cast<int64_t>(concat_.size()); }
  bool reduction() const { return reduction_; }

 private:
  std::shared_ptr<nn::Module> pre0_, pre1_;
  std::vector<std::shared_ptr<nn::Module>> ops_;
  std::vector<int> inputs_;
  std::vector<int> concat_;
  std::vector<bool> identity_;
  bool reduction_;
};

// ReLU -> avg pool 5 -> 1x1 conv 128 -> BN -> ReLU -> 2x2 conv 768 -> BN -> ReLU -> linear.
// The pool stride makes a 2x2 map from the 8x8 (CIFAR) or 7x7 (28-pixel) input it sees.
class AuxiliaryHead : public nn::Module {
 public:
  AuxiliaryHead(int64_t c, int64_t input_size, int64_t num_classes, Generator& gen);
  std::string type_name() const override { return "AuxiliaryHead"; }
  Tensor forward(const Tensor& x) override;

 private:
  int64_t pool_stride_;
  std::shared_ptr<nn::Sequential> features_;
  std::shared_ptr<nn::Linear> classifier_;
};

class EvalNetwork : public nn::Module {
 public:
  EvalNetwork(const EvalNetworkConfig& config, Generator& gen);
  std::string type_name() const override { return "EvalNetwork"; }

  struct Output {
    Tensor logits;
    Tensor aux_logits;  // undefined without the auxiliary head or outside training
  };
  // x [N, H, W, C] float32 -> logits [N, classes] (and auxiliary logits when training).
  Output forward_full(const Tensor& x, double drop_path_prob, Generator& gen);
  Tensor forward(const Tensor& x) override;

  // Parameter count; the DARTS tables exclude the auxiliary head.
  int64_t num_parameters(bool include_auxiliary = false) const;
  std::string summary() const;
  const EvalNetworkConfig& config() const { return config_; }

 private:
  EvalNetworkConfig config_;
  std::shared_ptr<nn::Sequential> stem_;
  std::vector<std::shared_ptr<EvalCell>> cells_;
  std::shared_ptr<AuxiliaryHead> aux_;
  int aux_after_ = -1;
  std::shared_ptr<nn::Linear> classifier_;
};

}  // namespace fusenas::nas
