// Back-to-simulation attribution.
//
// `sgnn bank` embeds simulations from the `bank` stream with a trained network's
// penultimate layer and stores them, with their parameters and mechanisms, in an HDF5
// memory bank. `sgnn attribute` embeds an observed series the same way and reports
// the k nearest simulations of the bank: their parameters and mechanisms, and the
// distribution they form (the attributed posterior).
#pragma once

#include <string>
#include <vector>

namespace sgnn::cli {

int bank_command(const std::vector<std::string>& args, int* argc, char*** argv);
int attribute_command(const std::vector<std::string>& args);

}  // namespace sgnn::cli
