#include "sgnn/io/bank_file.hpp"

#include "sgnn/io/corpus_file.hpp"
#include "sgnn/text.hpp"

#include <cmath>
#include <stdexcept>

namespace sgnn::io {

MemoryBank read_memory_bank(const std::string& path) {
    const CorpusHeader header(path, "sgnn-bank", "make one with sgnn bank");
    if (header.text("format_version") != kBankFormatVersion) {
        throw std::runtime_error(path + ": bank format_version " + printable(header.text("format_version")) +
                                 ", this sgnn reads version " + kBankFormatVersion +
                                 "; make the bank again with sgnn bank");
    }
    MemoryBank bank;
    bank.samples = header.count("samples", 1, std::uint64_t(1) << 40);
    bank.width = header.count("embedding_width", 1, 1 << 20);
    bank.parameter_names = split_list(header.text("parameter_names"));
    bank.class_names = split_list(header.text("class_names"));
    const std::uint64_t n = bank.samples, n_p = bank.parameter_names.size();
    bank.embeddings = read_rows(path, "embeddings", ElementType::f32, bank.width, 0, n).as<float>();
    bank.parameters = read_rows(path, "parameters", ElementType::f64, n_p, 0, n).as<double>();
    bank.labels = read_rows(path, "labels", ElementType::i64, 0, 0, n).as<std::int64_t>();
    bank.valid = read_rows(path, "valid", ElementType::u8, 0, 0, n).as<std::uint8_t>();
    const auto classes = static_cast<std::int64_t>(bank.class_names.size());
    for (std::uint64_t i = 0; i < n; ++i) {
        if (!bank.valid[i]) continue;
        const std::int64_t label = bank.labels[i];
        if (classes == 0 ? label != 0 : label < 0 || label >= classes) {
            throw std::runtime_error(path + ": row " + std::to_string(i) + " has label " + std::to_string(label) +
                                     " but " + std::to_string(classes) + " class name(s); the file is damaged");
        }
        for (std::uint64_t c = 0; c < bank.width; ++c) {
            if (!std::isfinite(bank.embeddings[i * bank.width + c])) {
                throw std::runtime_error(path + ": row " + std::to_string(i) +
                                         " is marked valid but its embedding is not finite; the file is damaged");
            }
        }
    }
    return bank;
}

}  // namespace sgnn::io
