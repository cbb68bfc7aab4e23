#include "sgnn/io/file_seal.hpp"

#include "sgnn/io/sha256.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace sgnn::io {
namespace {

constexpr char kHdf5Signature[] = "\x89HDF\r\n\x1a\n";

// The SHA-256 of everything after the user block, read in pieces (corpus-sized files
// need not fit in memory).
std::string digest_after_block(std::ifstream& in) {
    in.seekg(static_cast<std::streamoff>(kSealBytes));
    Sha256 hash;
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0) hash.update(buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    return hash.hex_digest();
}

}  // namespace

void seal_file(const std::string& file, const char* magic, const std::string& what) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot write " + what + " (cannot read it back to seal it)");
    in.seekg(0, std::ios::end);
    if (static_cast<std::size_t>(in.tellg()) < kSealBytes)
        throw std::runtime_error("cannot write " + what + " (short file)");
    std::string block = magic + digest_after_block(in) + "\n";
    block.resize(kSealBytes, '\0');
    std::fstream out(file, std::ios::binary | std::ios::in | std::ios::out);
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + what + " (user block)");
}

void check_file_seal(const std::string& path) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) throw std::runtime_error(path + ": not a readable file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    const std::size_t longest = std::max(std::strlen(kModelSeal), std::strlen(kDatasetsSeal));
    std::string head(longest + 64, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.compare(0, 8, kHdf5Signature, 8) == 0) return;
    in.clear();
    std::size_t length = 0;
    for (const char* magic : {kModelSeal, kDatasetsSeal}) {
        if (head.compare(0, std::strlen(magic), magic) == 0) length = std::strlen(magic);
    }
    if (length == 0) {
        // No seal: HDF5's data after a user block means a sealed file whose seal was
        // damaged; anything else is not an sgnn file, and HDF5 says what it is.
        char signature[8] = {};
        in.seekg(static_cast<std::streamoff>(kSealBytes));
        in.read(signature, sizeof signature);
        if (in.gcount() != 8 || std::memcmp(signature, kHdf5Signature, 8) != 0) return;
    }
    if (length == 0 || head.size() < length + 64 || head.compare(length, 64, digest_after_block(in)) != 0) {
        throw std::runtime_error(path + ": the file's checksum does not match its content; the file is damaged");
    }
}

}  // namespace sgnn::io
