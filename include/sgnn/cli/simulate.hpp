// `sgnn simulate`: an offline corpus. Every rank simulates its share of samples
// 0..N-1 of the training stream and all write them into one HDF5 file with collective
// hyperslab writes; `sgnn train --data corpus.h5` trains from it.
#pragma once

#include <string>
#include <vector>

namespace sgnn::cli {

int simulate_command(const std::vector<std::string>& args, int* argc, char*** argv);

// Removes "--name VALUE" or "--name=VALUE" from args; returns VALUE, or `fallback`.
std::string take_flag(std::vector<std::string>& args, const std::string& name, const std::string& fallback);

}  // namespace sgnn::cli
