// The options of `sgnn train` (and of every command that runs or simulates its
// pipeline): the modules' own options (sim/, stream/, train/, coord/options.hpp) and
// the run's (top-level keys, progress.*, checkpoint.*, debug.*), and the RunConfig they
// build. How options are parsed and checked is config/options.hpp.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/run/config.hpp"

#include <string>
#include <vector>

namespace sgnn::run {

// The options of `sgnn train` (and of `sgnn bench stream`, which runs the same pipeline).
const std::vector<config::OptionSpec>& run_options();

// Checks every value against its spec and builds the run configuration. Throws
// ConfigError naming the key, the bad value, where it came from and what is allowed.
RunConfig make_run_config(const config::ParsedOptions& options);

// The configuration of a finished training run, from run_dir/config.ini (what sgnn
// bank, attribute and predict read). Throws ConfigError naming the directory when it
// has none.
RunConfig read_run_config(const std::string& run_dir, const std::string& flag = "--run");

// A trained network as a command names it, by --model FILE or --run DIR: its model.h5
// and the run directory whose config.ini describes it (the model's folder when only
// --model is given). Both empty when neither flag is.
struct TrainedModel {
    std::string run_dir;
    std::string model;
};
TrainedModel trained_model(const std::string& run_flag, const std::string& model_flag);

// Keys that define what a run computes (a resume must keep them), and keys that define
// the samples (a corpus fixes them).
bool defines_the_run(const std::string& key);
bool defines_the_samples(const std::string& key);

}  // namespace sgnn::run
