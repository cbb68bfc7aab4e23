// Atomic file replacement: write to a temporary file beside the destination, flush it
// to disk, rename it over the destination. A reader, or a kill at any moment, sees
// either the old or the new file.
//
// What sgnn promises about the files it writes (docs/safety.md):
//  - the temporary is "<path>.tmp.XXXXXX", created exclusively (O_EXCL): an existing
//    file or a planted symbolic link is never opened, followed or truncated;
//  - only a regular file (or nothing) is ever replaced: a device, FIFO, directory or
//    symbolic link at the destination is refused with one line, never renamed over.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sgnn::io {

void write_file_atomically(const std::string& path, const std::string& content);

// For writers that need a file name (HDF5): `write` fills the temporary file it is
// given (it exists, empty, and may be truncated and rewritten), which then replaces
// `path`. Throws std::runtime_error naming the path.
void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

// Throws std::runtime_error unless `path` is absent or a regular file.
void require_replaceable(const std::string& path);

// A new, empty temporary file beside `path`, created exclusively with the permissions
// an ordinary new file gets (0666 less the umask). Returns its name.
std::string create_temporary_beside(const std::string& path);

// Flushes `tmp` to disk and renames it over `path` (after require_replaceable);
// removes `tmp` and throws on failure.
void publish_temporary(const std::string& tmp, const std::string& path);

// Free bytes in the file system that holds (or will hold) `path`; max when unknown.
std::uint64_t free_bytes_for(const std::string& path);
// Why a file of about `bytes` cannot be written at `path`: "Read-only file system",
// "No space left on device (N KiB free in DIR, the file needs about M KiB)", or "".
std::string space_problem(const std::string& path, std::uint64_t bytes);

// Flushes a file's data to disk (never through a link); best effort.
void fsync_file(const std::string& path);

// Creates the directory and its parents; throws a message naming the path.
void make_directories(const std::string& path);

}  // namespace sgnn::io
