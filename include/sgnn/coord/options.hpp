// The options of the prior schedule (curriculum.*), declared beside ScheduleConfig
// (coord/schedule.hpp), whose default members are their defaults.
#pragma once

#include "sgnn/config/options.hpp"
#include "sgnn/coord/schedule.hpp"

#include <cstdint>
#include <vector>

namespace sgnn::coord {

std::vector<config::OptionSpec> schedule_options();

// curriculum.* into a ScheduleConfig for a run of `train_steps` steps. Throws
// ConfigError naming the key.
ScheduleConfig read_schedule_options(const config::OptionReader& options, std::int64_t train_steps);

}  // namespace sgnn::coord
