#include "sgnn/io/atomic_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace sgnn::io {
namespace {

std::string temporary_name(const std::string& path) { return path + ".tmp." + std::to_string(::getpid()); }

void fsync_path(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void replace_file_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
    const std::string tmp = temporary_name(path);
    try {
        write(tmp);
    } catch (...) {
        std::remove(tmp.c_str());
        throw;
    }
    fsync_path(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot write " + path + ": " + reason);
    }
}

void write_file_atomically(const std::string& path, const std::string& content) {
    replace_file_atomically(path, [&](const std::string& tmp) {
        std::FILE* file = std::fopen(tmp.c_str(), "wb");
        if (file == nullptr) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
        const bool ok = std::fwrite(content.data(), 1, content.size(), file) == content.size();
        const bool closed = std::fclose(file) == 0;
        if (!ok || !closed) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    });
}

void make_directories(const std::string& path) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) throw std::runtime_error("cannot create output directory " + path + ": " + error.message());
}

}  // namespace sgnn::io
