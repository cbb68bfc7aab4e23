#include "sgnn/io/sha256.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace sgnn::io {

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL could not start a SHA-256 digest");
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_)); }

void Sha256::update(const void* data, std::size_t size) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data, size);
}

std::string Sha256::raw_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(context_), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256::hex_digest() {
    static const char* hex = "0123456789abcdef";
    std::string text;
    for (const char byte : raw_digest()) {
        const auto b = static_cast<unsigned char>(byte);
        text += hex[b >> 4];
        text += hex[b & 15];
    }
    return text;
}

std::string sha256_hex(const std::string& data) {
    Sha256 hash;
    hash.update(data.data(), data.size());
    return hash.hex_digest();
}

}  // namespace sgnn::io
