// `sgnn experiment NAME --scale quick|paper`: the paper-figure runs, each one command
// that simulates, trains, evaluates against its baseline and writes CSV tables, PNG
// figures and summary.json (docs/results.md).
#pragma once

#include "sgnn/cli/options.hpp"
#include "sgnn/io/json_file.hpp"
#include "sgnn/stream/mpi_context.hpp"

#include <string>
#include <vector>

namespace sgnn::cli {

int experiment_command(const std::vector<std::string>& args, int* argc, char*** argv);

// What every experiment gets: its options (the run's and experiment.*), the scale and
// the output directory (created; every file in it is written atomically).
struct ExperimentContext {
    std::string name;
    std::string scale;  // quick or paper
    std::string out;
    ParsedOptions options;
    RunConfig run;  // the training settings the config file gives
    const stream::MpiSession* mpi = nullptr;
    bool is_root() const { return mpi->world_rank() == 0; }
    // experiment.<key>, or experiment.quick_<key> at quick scale when that exists.
    std::string scaled_key(const std::string& key) const;
};

// The experiment.* options (shown by sgnn experiment --help).
const std::vector<OptionSpec>& experiment_options();

// One experiment: runs on every rank, returns summary.json's headline content on rank 0.
io::Json run_posterior_mean(ExperimentContext& context);

}  // namespace sgnn::cli
