// Parameter initialisers with PyTorch's default formulas, drawing from an explicit Generator.
#pragma once

#include "fusenas/engine/generator.h"
#include "fusenas/engine/tensor.h"

namespace fusenas::nn::init {

// Product of every dimension but the first: in_features for [out, in], kH*kW*C_in/groups for
// conv weights [out, kH, kW, C_in/groups] (the same number torch gets from [out, in/g, kH, kW]).
int64_t fan_in(const Tensor& weight);

// Overwrite `t` in place (on its own device and dtype), never recorded by autograd.
void uniform_(const Tensor& t, double low, double high, Generator& gen);
void normal_(const Tensor& t, double mean, double stddev, Generator& gen);
// U(-b, b) with b = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)). PyTorch's conv/linear
// default a = sqrt(5) gives b = 1 / sqrt(fan_in).
void kaiming_uniform_(const Tensor& weight, double a, Generator& gen);

}  // namespace fusenas::nn::init
