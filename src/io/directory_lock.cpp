#include "sgnn/io/directory_lock.hpp"

#include "sgnn/error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace sgnn::io {

DirectoryLock::DirectoryLock(const std::string& directory, const std::string& option) {
    const std::string path = directory + "/.sgnn.lock";
    // Held open read-only: a file open for writing would keep its file system from
    // being remounted read-only (which must stay possible under a running job).
    fd_ = ::open(path.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        throw ConfigError(option + " " + directory + ": cannot create " + path + ": " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int reason = errno;
        if (reason != EWOULDBLOCK) {  // no flock here (ENOLCK, EINVAL): run unlocked
            ::close(fd_);
            fd_ = -1;
            return;
        }
        char holder[256] = {0};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        std::string who = n > 0 ? std::string(holder, static_cast<std::size_t>(n)) : std::string();
        while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
        for (char& c : who) c = (c == '\n' ? ' ' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c));
        ::close(fd_);
        fd_ = -1;
        throw ConfigError(option + " " + directory + " is in use by another sgnn process" +
                          (who.empty() ? "" : " (" + who + ")") + "; wait for it to finish, or choose another " +
                          option);
    }
    char host[128] = {0};
    ::gethostname(host, sizeof host - 1);
    const std::string holder = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
    const int writer = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (writer >= 0) {
        [[maybe_unused]] const ssize_t written = ::write(writer, holder.data(), holder.size());
        ::close(writer);
    }
}

DirectoryLock::~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace sgnn::io
