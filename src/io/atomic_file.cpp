#include "sgnn/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace sgnn::io {
namespace {

std::string system_error_text() { return std::strerror(errno); }

// The umask, read once: mkstemp creates files 0600, and outputs should be as readable
// as any other file the user creates. umask(2) can only be read by setting it, so
// this happens once, before any thread of sgnn's writes a file.
mode_t new_file_mode() {
    static const mode_t mode = [] {
        const mode_t mask = ::umask(022);
        ::umask(mask);
        return static_cast<mode_t>(0666 & ~mask);
    }();
    return mode;
}

}  // namespace

namespace {
std::string folder_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

std::uint64_t free_bytes_for(const std::string& path) {
    struct statvfs fs {};
    if (::statvfs(folder_of(path).c_str(), &fs) != 0) return std::numeric_limits<std::uint64_t>::max();
    return static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
}

std::string space_problem(const std::string& path, std::uint64_t bytes) {
    struct statvfs fs {};
    if (::statvfs(folder_of(path).c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY)) return "Read-only file system";
    const std::uint64_t free_bytes = free_bytes_for(path);
    if (free_bytes >= bytes) return "";
    return "No space left on device (" + std::to_string(free_bytes / 1024) + " KiB free in " + folder_of(path) +
           ", the file needs about " + std::to_string(bytes / 1024) + " KiB)";
}

void require_replaceable(const std::string& path) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
        if (errno == ENOENT) return;
        throw std::runtime_error("cannot write " + path + ": " + system_error_text());
    }
    if (S_ISREG(status.st_mode)) return;
    const char* what = S_ISDIR(status.st_mode)    ? "a directory"
                       : S_ISLNK(status.st_mode)  ? "a symbolic link"
                       : S_ISFIFO(status.st_mode) ? "a FIFO"
                       : S_ISCHR(status.st_mode)  ? "a character device"
                       : S_ISBLK(status.st_mode)  ? "a block device"
                       : S_ISSOCK(status.st_mode) ? "a socket"
                                                  : "not a regular file";
    throw std::runtime_error("cannot write " + path + ": it is " + std::string(what) +
                             "; sgnn replaces only regular files (choose another output path)");
}

std::string create_temporary_beside(const std::string& path) {
    require_replaceable(path);
    std::string name = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + system_error_text());
    ::fchmod(fd, new_file_mode());
    ::close(fd);
    return name;
}

void publish_temporary(const std::string& tmp, const std::string& path) {
    fsync_file(tmp);
    try {
        require_replaceable(path);
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = system_error_text();
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + reason);
    }
}

void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
    const std::string tmp = create_temporary_beside(path);
    try {
        write(tmp);
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    publish_temporary(tmp, path);
}

void write_file_atomically(const std::string& path, const std::string& content) {
    replace_file_atomically(path, [&](const std::string& tmp) {
        // The temporary was just created by us; O_NOFOLLOW refuses a link swapped in since.
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + system_error_text());
        std::size_t written = 0;
        while (written < content.size()) {
            const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                const std::string reason = system_error_text();
                ::close(fd);
                throw std::runtime_error("cannot write " + path + ": " + reason);
            }
            written += static_cast<std::size_t>(n);
        }
        if (::close(fd) != 0) throw std::runtime_error("cannot write " + path + ": " + system_error_text());
    });
}

void fsync_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

void make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) throw std::runtime_error("cannot create output directory " + path + ": " + error.message());
}

}  // namespace sgnn::io
