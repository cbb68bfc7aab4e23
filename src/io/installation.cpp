#include "sgnn/io/installation.hpp"

#include "sgnn/build_info.hpp"  // generated at build time (cmake/BuildInfo.cmake)

#include <filesystem>
#include <system_error>

namespace sgnn::io {

std::string data_directory() {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path executable = fs::read_symlink("/proc/self/exe", error);
    if (error) return "";
    const fs::path bin = executable.parent_path();
    for (const fs::path& candidate : {bin.parent_path() / "share" / "sgnn", bin / "share" / "sgnn"}) {
        if (fs::is_directory(candidate / "configs", error)) return candidate.string();
    }
    return "";
}

std::string installed_file(const std::string& relative) {
    const std::string directory = data_directory();
    if (directory.empty()) return "";
    // The file's own path, links resolved: what runs record (a build tree's data
    // folder links to the sources').
    std::error_code error;
    const std::filesystem::path path = std::filesystem::canonical(directory + "/" + relative, error);
    return error ? "" : path.string();
}

std::string build_commit() { return SGNN_BUILD_COMMIT; }

}  // namespace sgnn::io
