// Runs the training pipeline on this rank: builds the roles the layout gives it, then
// polls them until all are done. Called by `sgnn train` and `sgnn bench stream`.
#pragma once

#include "sgnn/io/json_file.hpp"
#include "sgnn/run/config.hpp"
#include "sgnn/stream/communicators.hpp"

namespace sgnn::run {

struct RunOptions {
    bool write_outputs = true;  // false: no output directory (benchmarks)
    bool quiet = false;         // no progress lines
    // A fresh run in a directory that holds another run's outputs replaces them instead
    // of refusing to start: experiments rerun their own sub-runs this way.
    bool replace_earlier_run = false;
};

struct RunResult {
    io::Json summary;   // summary.json's content on rank 0 (empty elsewhere)
    int exit_code = 0;  // the same on every rank: 0, or checkpoint::kExitRequeue after a stop signal
};

// Throws ConfigError for problems found before ranks start talking (every rank finds
// the same ones, checkpoint problems included), and other exceptions for fatal errors.
RunResult run_training(const RunConfig& config, const comm::MpiSession& mpi, const RunOptions& options);

// "coordinator", "trainer 2" or "simulator", for error messages.
std::string role_of_rank(const RunConfig& config, int world_rank, int world_size);

}  // namespace sgnn::run
