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

// The series of an observation file as the network sees it: a CSV with a header row,
// one row per day and one numeric column per series of the model (a column named day,
// date or t is ignored), transformed like the training inputs (obs.transform). Throws
// ConfigError naming the file and what is wrong.
std::vector<float> read_observation(const std::string& path, int days, int channels, const std::string& transform,
                                    bool missing_allowed);

}  // namespace sgnn::cli
