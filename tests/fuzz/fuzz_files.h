// Files for the readers that take a path: a fresh folder per execution, plain and gzip writes.
#pragma once

#include <string>
#include <string_view>

namespace fusenas::fuzz {

// <scratch>/<name>, emptied (or created) for this execution.
std::string fresh_dir(const std::string& name);
void write_bytes(const std::string& path, std::string_view bytes);
// `bytes` as one gzip member (what `gzip` writes).
std::string gzip_bytes(std::string_view bytes);
std::string read_bytes(const std::string& path);

}  // namespace fusenas::fuzz
