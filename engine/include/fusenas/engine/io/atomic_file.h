// Crash-safe file writes: write to a temporary file, fsync it, then rename over the target.
#pragma once

#include <string>
#include <string_view>

namespace fusenas::io {

void write_file_atomic(const std::string& path, std::string_view contents);
// Throws naming the path unless write_file_atomic(path, ...) could create its files there (the
// folder exists and is writable), so a long job can fail before its work rather than after.
void check_writable(const std::string& path);
std::string read_file(const std::string& path);

}  // namespace fusenas::io
