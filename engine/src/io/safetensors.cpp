// Safetensors reader/writer: 8-byte little-endian header length, JSON header, then tensor bytes.
#include "fusenas/engine/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "fusenas/engine/io/atomic_file.h"

namespace fusenas::io {
namespace {

std::string dtype_code(DType dtype) {
  switch (dtype) {
    case DType::Float32:
      return "F32";
    case DType::Float64:
      return "F64";
    case DType::Int64:
      return "I64";
    case DType::UInt8:
      return "U8";
    case DType::BFloat16:
      return "BF16";
  }
  return "?";
}

DType dtype_from_code(const std::string& code, const std::string& path, const std::string& name) {
  if (code == "F32") return DType::Float32;
  if (code == "F64") return DType::Float64;
  if (code == "I64") return DType::Int64;
  if (code == "U8") return DType::UInt8;
  if (code == "BF16") return DType::BFloat16;
  FUSENAS_FAIL("{}: tensor '{}' has unsupported dtype '{}'", path, name, code);
}

}  // namespace

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    FUSENAS_CHECK(t.defined(), "save_safetensors {}: tensor '{}' is undefined", path, name);
    FUSENAS_CHECK(!header.contains(name), "save_safetensors {}: duplicate tensor name '{}'", path,
                  name);
    Tensor h = t.detach().to(Device::cpu()).contiguous();
    const size_t nbytes = static_cast<size_t>(h.numel()) * dtype_size(h.dtype());
    header[name] = {{"dtype", dtype_code(h.dtype())},
                    {"shape", h.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    host.push_back(std::move(h));
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data section
  std::string out;
  out.reserve(8 + head.size() + offset);
  const uint64_t n = head.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += head;
  for (const auto& h : host) {
    out.append(static_cast<const char*>(h.raw_data()),
               static_cast<size_t>(h.numel()) * dtype_size(h.dtype()));
  }
  write_file_atomic(path, out);
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string bytes = read_file(path);
  FUSENAS_CHECK(bytes.size() >= 8, "{}: truncated safetensors file ({} bytes)", path, bytes.size());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  FUSENAS_CHECK(n <= bytes.size() - 8, "{}: header length {} exceeds the file size {}", path, n,
                bytes.size());
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(8, n));
  } catch (const nlohmann::json::exception& e) {
    FUSENAS_FAIL("{}: corrupt safetensors header: {}", path, e.what());
  }
  FUSENAS_CHECK(header.is_object(), "{}: safetensors header is not a JSON object", path);
  const size_t data_start = 8 + n;
  const size_t data_size = bytes.size() - data_start;
  SafetensorsFile file;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.items()) file.metadata[k] = v.get<std::string>();
      continue;
    }
    try {
      const DType dtype = dtype_from_code(entry.at("dtype").get<std::string>(), path, name);
      const Shape shape = entry.at("shape").get<Shape>();
      const auto offsets = entry.at("data_offsets").get<std::vector<size_t>>();
      FUSENAS_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
                    "{}: tensor '{}' lies outside the file (truncated?)", path, name);
      const size_t nbytes = static_cast<size_t>(numel_of(shape)) * dtype_size(dtype);
      FUSENAS_CHECK(offsets[1] - offsets[0] == nbytes,
                    "{}: tensor '{}' has {} bytes, shape {} needs {}", path, name,
                    offsets[1] - offsets[0], shape_str(shape), nbytes);
      Tensor t = Tensor::empty(shape, TensorOptions{}.with_dtype(dtype));
      std::memcpy(t.raw_data(), bytes.data() + data_start + offsets[0], nbytes);
      file.tensors.emplace(name, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      FUSENAS_FAIL("{}: bad header entry for '{}': {}", path, name, e.what());
    }
  }
  return file;
}

}  // namespace fusenas::io
