// SHA-256 (OpenSSL), for model and config fingerprints.
#pragma once

#include <cstddef>
#include <string>

namespace sgnn::io {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, std::size_t size);
    std::string hex_digest();  // finishes the hash
    std::string raw_digest();  // finishes the hash: its 32 bytes

private:
    void* context_;
};

std::string sha256_hex(const std::string& data);

}  // namespace sgnn::io
