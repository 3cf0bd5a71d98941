// nn::Embedding: a lookup table of num_embeddings vectors of size embedding_dim.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/nn/module.h"

namespace fusenas::nn {

class Embedding : public Module {
 public:
  // weight [num, dim] drawn from N(0, 1) (PyTorch's default).
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen);

  std::string type_name() const override { return "Embedding"; }
  // int64 indices of any shape -> [..., dim]
  Tensor forward(const Tensor& indices) override;

  int64_t num_embeddings() const { return weight.shape()[0]; }
  int64_t embedding_dim() const { return weight.shape()[1]; }

  Tensor weight;
};

}  // namespace fusenas::nn
