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

// Keys that define what a run computes (a resume must keep them), and keys that define
// the samples (a corpus fixes them).
bool defines_the_run(const std::string& key);
bool defines_the_samples(const std::string& key);

}  // namespace sgnn::run
