// nn::Embedding: N(0, 1) initialisation and a forward through ops::embedding.
#include "fusenas/engine/nn/embedding.h"

#include "fusenas/engine/nn/init.h"
#include "fusenas/engine/ops.h"

namespace fusenas::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen) {
  FUSENAS_CHECK(num_embeddings > 0 && embedding_dim > 0,
                "Embedding: sizes must be positive, got num={} dim={}", num_embeddings,
                embedding_dim);
  weight = register_parameter("weight", Tensor::empty({num_embeddings, embedding_dim}));
  init::normal_(weight, 0.0, 1.0, gen);
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(weight, indices);
}

}  // namespace fusenas::nn
