// Crash-safe file writes: write to a temporary file, fsync it, then rename over the target.
#pragma once

#include <string>
#include <string_view>

namespace fusenas::io {

void write_file_atomic(const std::string& path, std::string_view contents);
std::string read_file(const std::string& path);

}  // namespace fusenas::io
