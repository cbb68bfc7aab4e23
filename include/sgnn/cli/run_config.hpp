// Everything a run needs, as plain structs per module, built from the options
// database (cli/options.hpp) and handed to the modules.
#pragma once

#include "sgnn/coord/schedule.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/train/config.hpp"

#include <cstdint>
#include <string>

namespace sgnn::cli {

struct RunConfig {
    std::string name = "sgnn";
    std::string out;  // empty: runs/<name>-<timestamp>
    std::uint64_t seed = 1;
    int trainers = 1;
    bool deterministic = false;
    sim::TaskConfig task;
    stream::StreamConfig stream;
    train::TrainConfig train;
    coord::ScheduleConfig schedule;
    double progress_interval = 2.0;
    int debug_fail_rank = -1;      // test-only: this rank throws after debug_fail_after seconds
    double debug_fail_after = 1.0;
    std::string effective_ini;     // the full effective configuration, as written to config.ini
};

}  // namespace sgnn::cli
