#include "sgnn/io/json_file.hpp"

#include "sgnn/io/atomic_file.hpp"

namespace sgnn::io {

void write_json_file(const std::string& path, const Json& document) {
    write_file_atomically(path, document.dump(2) + "\n");
}

}  // namespace sgnn::io
