// Atomic file replacement: write to "<path>.tmp.<pid>", flush to disk, rename over
// <path>. A reader, or a kill at any moment, sees either the old or the new file.
#pragma once

#include <functional>
#include <string>

namespace sgnn::io {

void write_file_atomically(const std::string& path, const std::string& content);

// For writers that need a file name (HDF5): `write` creates the temporary file it is
// given, which then replaces `path`. Throws std::runtime_error naming the path.
void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

// Creates the directory and its parents; throws a message naming the path.
void make_directories(const std::string& path);

}  // namespace sgnn::io
