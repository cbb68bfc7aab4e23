// The options of the simulation (sim.*, obs.*, ode.*, prior.*), declared beside
// TaskConfig, whose default members are their defaults.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/sim/task.hpp"

#include <map>
#include <string>
#include <vector>

namespace sgnn::sim {

// In the order --help and config.ini list them; prior.NAME for every parameter of the
// catalog (sim/parameters.hpp), its default prior the catalog's.
std::vector<config::OptionSpec> task_options();

// The task the options describe, every value checked against its spec (and each prior
// against its parameter's domain). Throws ConfigError naming the key.
TaskConfig read_task_config(const config::OptionReader& options);

// The prior.NAME values a run's config.ini records in place of the catalog's defaults:
// the defaults a model file declares for catalog parameters the configuration leaves
// unset (when the task's model files agree on one), so that config.ini reads as what
// the run used.
std::map<std::string, std::string> model_file_priors(const TaskConfig& task);

}  // namespace sgnn::sim
