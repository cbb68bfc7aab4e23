// Memory banks (`sgnn bank`): samples 0..N-1 of the `bank` random stream, never
// trained on, simulated under a training run's configuration and embedded with the
// run's network (its penultimate layer), written by every rank together into one HDF5
// file (docs/file-formats.md). io/bank_file.hpp reads them back; bank/nearest.hpp
// searches them.
#pragma once

#include "sgnn/run/config.hpp"

#include <cstdint>
#include <string>

namespace sgnn::bank {

// Collective over MPI_COMM_WORLD: embeds `samples` simulations with run_dir's model.h5
// into `out`, replaced atomically. Returns the embedding width. Throws ConfigError for
// a model that does not fit the configuration, StopRequested on every rank alike when
// a rank was asked to stop, runtime_error otherwise.
std::uint64_t write_memory_bank(const run::RunConfig& config, const std::string& run_dir, std::uint64_t samples,
                                const std::string& out);

}  // namespace sgnn::bank
