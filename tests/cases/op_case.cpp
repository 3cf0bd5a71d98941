// OpCase inputs and the registry of op tables.
#include "op_case.h"

#include <functional>
#include <map>

#include "fusenas/engine/error.h"
#include "fusenas/engine/factory.h"
#include "tables.h"

namespace fusenas::cases {
namespace {

// From the label: every case draws its own inputs, whatever order the tables run in.
uint64_t seed_of(const std::string& label) {
  return std::hash<std::string>{}(label);
}

using Table = std::function<std::vector<OpCase>()>;

const std::vector<std::pair<std::string, Table>>& registry() {
  static const auto* tables = [] {
    auto* t = new std::vector<std::pair<std::string, Table>>{
        {"conv2d", conv2d_cases},
        {"max_pool2d", max_pool2d_cases},
        {"avg_pool2d", avg_pool2d_cases},
        {"global_avg_pool", global_avg_pool_cases},
        {"batch_norm", batch_norm_cases},
        {"sum", sum_cases},
        {"mean", mean_cases},
        {"matmul", matmul_cases},
        {"linear", linear_cases},
        {"softmax", softmax_cases},
        {"log_softmax", log_softmax_cases},
        {"cross_entropy", cross_entropy_cases},
        {"embedding", embedding_cases},
        {"weighted_sum", weighted_sum_cases},
        {"concat", concat_cases},
        {"zero_op", zero_op_cases},
    };
    for (const char* op : {"relu", "sigmoid", "tanh", "exp", "log", "scale", "square", "add_scalar",
                           "sqrt", "clamp_max"}) {
      t->emplace_back(op, [op] { return unary_cases(op); });
    }
    for (const char* op : {"add", "sub", "mul", "div"}) {
      t->emplace_back(op, [op] { return binary_cases(op); });
    }
    return t;
  }();
  return *tables;
}

}  // namespace

Input Input::labels(Shape shape, int64_t classes) {
  Input in;
  in.shape = std::move(shape);
  in.classes = classes;
  in.grad = false;
  return in;
}

Input Input::constant(Shape shape, double low, double high) {
  Input in;
  in.shape = std::move(shape);
  in.low = low;
  in.high = high;
  in.grad = false;
  return in;
}

Input Input::none() {
  Input in;
  in.absent = true;
  in.grad = false;
  return in;
}

std::vector<Tensor> OpCase::make_inputs(DType dtype) const {
  std::vector<Tensor> out;
  const uint64_t seed = seed_of(label());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Input& in = inputs[i];
    Generator gen(seed + i);
    if (in.absent) {
      out.emplace_back();
    } else if (in.classes > 0) {
      out.push_back(randint(in.shape, 0, in.classes, gen));
    } else {
      out.push_back(uniform(in.shape, in.low, in.high, gen, TensorOptions{}.with_dtype(dtype)));
    }
  }
  return out;
}

std::vector<bool> OpCase::grad_inputs() const {
  std::vector<bool> grads;
  for (const Input& in : inputs) grads.push_back(in.grad && !in.absent && in.classes == 0);
  return grads;
}

nlohmann::json OpCase::torch_spec() const {
  nlohmann::json spec = {{"op", op}, {"params", params}, {"inputs", nlohmann::json::array()}};
  for (const Input& in : inputs) {
    spec["inputs"].push_back({{"shape", in.absent ? Shape{} : in.shape},
                              {"absent", in.absent},
                              {"grad", in.grad},
                              {"classes", in.classes},
                              {"low", in.low},
                              {"high", in.high}});
  }
  return spec;
}

const std::vector<std::string>& op_names() {
  static const auto* names = [] {
    auto* n = new std::vector<std::string>();
    for (const auto& [name, table] : registry()) n->push_back(name);
    return n;
  }();
  return *names;
}

std::vector<std::string> op_names_with(Check check) {
  std::vector<std::string> names;
  for (const auto& [name, table] : registry()) {
    for (const OpCase& c : table()) {
      if (c.checks & check) {
        names.push_back(name);
        break;
      }
    }
  }
  return names;
}

std::vector<OpCase> cases_of(const std::string& op) {
  for (const auto& [name, table] : registry()) {
    if (name == op) return table();
  }
  FUSENAS_FAIL("no case table for op '{}'", op);
}

std::vector<OpCase> cases_with(Check check) {
  std::vector<OpCase> out;
  for (const auto& [name, table] : registry()) {
    for (OpCase& c : table()) {
      if (c.checks & check) out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace fusenas::cases
