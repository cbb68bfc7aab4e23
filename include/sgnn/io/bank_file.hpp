// bank.h5: a memory bank of embedded simulations (`sgnn bank`), the corpus layout
// (io/corpus_file.hpp) with these columns, one row per simulation:
//
//   embeddings  float32 (N, width)      the network's penultimate layer (NaN if dropped)
//   parameters  float64 (N, n_params)   every prior draw, named by parameter_names
//   targets     float32 (N, n_targets)
//   labels      int64 (N)               mechanism index into class_names (-1 if dropped)
//   indices     uint64 (N), valid uint8 (N)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sgnn::io {

constexpr const char* kBankFormatVersion = "2";

struct MemoryBank {
    std::uint64_t samples = 0;
    std::uint64_t width = 0;  // embedding width
    std::vector<std::string> parameter_names, class_names;
    std::vector<float> embeddings;   // samples x width
    std::vector<double> parameters;  // samples x parameter_names.size()
    std::vector<std::int64_t> labels;
    std::vector<std::uint8_t> valid;
};

// Reads and checks a whole bank: format and version, attribute and block checksums,
// every column's type and shape against the attributes, labels within class_names
// and finite embeddings for every valid row. Errors are std::runtime_error naming the
// file and the problem.
MemoryBank read_memory_bank(const std::string& path);

}  // namespace sgnn::io
