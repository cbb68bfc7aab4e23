// `sgnn sweep`: a parameter grid for SLURM job arrays (jobs/sweep.sbatch). A sweep
// file names a base config and a grid of option values; array task i trains with the
// i-th point of the grid, and `sgnn sweep collect` gathers the tasks' summary.json
// files into one CSV and figure.
#pragma once

#include "sgnn/run/session.hpp"

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace sgnn::sweep {

int sweep_command(run::Session& session);

struct SweepGrid {
    std::string path;                              // the sweep file, as given
    std::string base_config;                       // resolved against the sweep file's folder
    std::vector<std::string> keys;                 // option keys, in file order
    std::vector<std::vector<std::string>> values;  // values of each key

    // Tasks are the grid's points in row-major order: the last key varies fastest.
    std::size_t size() const;
    std::vector<std::pair<std::string, std::string>> task(std::size_t index) const;
    // `sgnn train` arguments of a task: --config BASE --KEY VALUE ...
    std::vector<std::string> train_args(std::size_t index) const;
};

// Reads and checks a sweep file; every task's configuration is checked as `sgnn train`
// would, so a bad value fails at submission, not in array task 17. Throws ConfigError
// naming the file, line or task, key and allowed values.
SweepGrid read_sweep_file(const std::string& path);

}  // namespace sgnn::sweep
