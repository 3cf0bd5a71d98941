// The op case tables, one function per op, defined in tests/cases/<engine op file>.cpp.
#pragma once

#include <vector>

#include "op_case.h"

namespace fusenas::cases {

std::vector<OpCase> conv2d_cases();                       // conv2d.cpp
std::vector<OpCase> max_pool2d_cases();                   // pool2d.cpp
std::vector<OpCase> avg_pool2d_cases();                   // pool2d.cpp
std::vector<OpCase> global_avg_pool_cases();              // pool2d.cpp
std::vector<OpCase> batch_norm_cases();                   // batch_norm.cpp
std::vector<OpCase> unary_cases(const std::string& op);   // unary.cpp: relu, sigmoid, ...
std::vector<OpCase> binary_cases(const std::string& op);  // binary.cpp: add, sub, mul, div
std::vector<OpCase> sum_cases();                          // reduce.cpp
std::vector<OpCase> mean_cases();                         // reduce.cpp
std::vector<OpCase> matmul_cases();                       // matmul.cpp
std::vector<OpCase> linear_cases();                       // matmul.cpp
std::vector<OpCase> softmax_cases();                      // softmax.cpp
std::vector<OpCase> log_softmax_cases();                  // softmax.cpp
std::vector<OpCase> cross_entropy_cases();                // cross_entropy.cpp
std::vector<OpCase> embedding_cases();                    // embedding.cpp
std::vector<OpCase> weighted_sum_cases();                 // weighted_sum.cpp
std::vector<OpCase> concat_cases();                       // concat.cpp
std::vector<OpCase> zero_op_cases();                      // zero_op.cpp

}  // namespace fusenas::cases
