// The DARTS cell space as a black-box space: points are genotypes (Genotype's JSON form) whose
// nodes each read two distinct earlier states and whose cells concatenate every node.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fusenas/nas/genotype.h"
#include "fusenas/nas/space/cell_path_encoding.h"
#include "fusenas/nas/space/space.h"

namespace fusenas::nas::space {

struct DartsCellOptions {
  int nodes = 4;  // intermediate nodes per cell, in [1, kMaxGenotypeNodes]
  // Candidate ops (known_ops() names, no "none", no repeats): by default the DARTS candidates
  // without "none", which a derived genotype never keeps.
  std::vector<std::string> ops = default_ops();
  // The network build() makes: nas_train's defaults (C = 16, 8 cells, reductions at 1/3, 2/3).
  int64_t init_channels = 16;
  int cells = 8;
  // What encode() returns: "adjacency" (per cell, node and possible input, a one-hot over ops:
  // compact, for Gaussian processes) or "path" (BANANAS's path encoding, for its MLP ensemble).
  std::string encoding = "adjacency";
  // Longest path the path encoding keeps; 0 keeps every path (no truncation).
  int path_max_length = 0;

  static std::vector<std::string> default_ops();
  // Throws fusenas::Error naming the field and the rule for the first bad value.
  void validate() const;
  nlohmann::json to_json() const;
  // Strict: unknown keys and wrong types are errors; missing keys keep their defaults.
  static DartsCellOptions from_json(const nlohmann::json& j);
};

class DartsCellSpace : public ArchSpace {
 public:
  explicit DartsCellSpace(DartsCellOptions options = {});

  std::string name() const override { return "darts-cell"; }
  // Per cell and node, two distinct inputs uniformly among the earlier states (listed in
  // increasing order) and each edge's op uniformly.
  Point sample(Generator& gen) const override;
  // One edge changes either its op (to another op) or its input (to another earlier state the
  // node's other edge does not read); the node's edges are then listed by input again.
  Point mutate(const Point& p, Generator& gen) const override;
  void validate(const Point& p) const override;
  std::vector<float> encode(const Point& p) const override;
  int64_t encoding_size() const override;
  // The DARTS text form.
  std::string to_text(const Point& p) const override;
  std::shared_ptr<Network> build(const Point& p, const ImageShape& shape,
                                 Generator& gen) const override;
  int64_t count_parameters(const Point& p, const ImageShape& shape) const override;

  const DartsCellOptions& options() const { return options_; }
  // The point's genotype (validated).
  Genotype genotype(const Point& p) const;
  static Point point(const Genotype& g);
  // Both encodings, whichever options().encoding selects for encode().
  std::vector<float> adjacency_encoding(const Point& p) const;
  int64_t adjacency_encoding_size() const;
  // Throws when the options' path encoding would exceed kMaxPathEncodingSize (possible only
  // with encoding "adjacency": with "path" the constructor refuses such options).
  const CellPathEncoding& path_encoding() const;

 private:
  DartsCellOptions options_;
  std::optional<CellPathEncoding> path_;
};

}  // namespace fusenas::nas::space
