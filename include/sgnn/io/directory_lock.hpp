// One writer per output directory. Two runs writing into the same --out would mix
// their outputs (one's summary.json, the other's config.ini) and delete each other's
// checkpoints; the second one is refused with one line instead.
#pragma once

#include <string>

namespace sgnn::io {

// An exclusive advisory lock (flock) on <directory>/.sgnn.lock, held while the object
// lives and released by the kernel when the process ends, however it ends. The file
// names the holder (pid, host). Throws ConfigError naming `option` ("--out") when
// another process holds the lock. On a file system without flock (some parallel file
// systems mounted without it) nothing is locked.
class DirectoryLock {
public:
    DirectoryLock(const std::string& directory, const std::string& option);
    ~DirectoryLock();
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace sgnn::io
