// Safetensors reader/writer: 8-byte little-endian header length, JSON header, then tensor bytes.
#include "fusenas/engine/io/safetensors.h"

#include <fmt/format.h>
#include <zlib.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <limits>

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

// The metadata key of a tensor's checksum. Other readers of the format ignore metadata, so the
// files stay plain safetensors.
std::string crc_key(const std::string& name) {
  return "crc32:" + name;
}

std::string crc32_hex(const void* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // zlib takes a uInt length
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return fmt::format("{:08x}", static_cast<uint32_t>(crc));
}

// Elements of `shape`, or nothing when a dimension is negative or the count overflows.
bool element_count(const Shape& shape, size_t& count) {
  count = 1;
  for (const int64_t d : shape) {
    if (d < 0) return false;
    if (d != 0 && count > std::numeric_limits<size_t>::max() / static_cast<size_t>(d)) return false;
    count *= static_cast<size_t>(d);
  }
  return true;
}

}  // namespace

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json meta = metadata;
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
    meta[crc_key(name)] = crc32_hex(h.raw_data(), nbytes);
    offset += nbytes;
    host.push_back(std::move(h));
  }
  if (!meta.empty()) header["__metadata__"] = meta;
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
      FUSENAS_CHECK(entry.is_object(), "{}: safetensors metadata is not a JSON object", path);
      for (const auto& [k, v] : entry.items()) {
        FUSENAS_CHECK(v.is_string(), "{}: safetensors metadata '{}' is not a string", path, k);
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      const DType dtype = dtype_from_code(entry.at("dtype").get<std::string>(), path, name);
      const Shape shape = entry.at("shape").get<Shape>();
      const auto offsets = entry.at("data_offsets").get<std::vector<size_t>>();
      FUSENAS_CHECK(offsets.size() == 2 && offsets[0] <= offsets[1] && offsets[1] <= data_size,
                    "{}: tensor '{}' lies outside the file (truncated?)", path, name);
      size_t count = 0;
      FUSENAS_CHECK(element_count(shape, count) &&
                        count <= std::numeric_limits<size_t>::max() / dtype_size(dtype),
                    "{}: tensor '{}' has an impossible shape", path, name);
      const size_t nbytes = count * dtype_size(dtype);
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
  // Checksums last: the metadata may come before or after the tensors in the header.
  for (const auto& [name, t] : file.tensors) {
    const auto it = file.metadata.find(crc_key(name));
    if (it == file.metadata.end()) continue;  // files from other writers carry none
    const std::string actual =
        crc32_hex(t.raw_data(), static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
    FUSENAS_CHECK(actual == it->second,
                  "{}: tensor '{}' fails its CRC32 check (stored {}, computed {}): the file is "
                  "corrupt",
                  path, name, it->second, actual);
  }
  for (auto it = file.metadata.begin(); it != file.metadata.end();) {
    it = it->first.rfind("crc32:", 0) == 0 ? file.metadata.erase(it) : std::next(it);
  }
  return file;
}

}  // namespace fusenas::io
