// Everything a run needs, as plain structs per module, built from the options
// database (config/options.hpp and run/options.hpp) and handed to the modules.
#pragma once

#include "sgnn/coord/schedule.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/simulator_worker.hpp"
#include "sgnn/train/config.hpp"

#include <cstdint>
#include <string>

namespace sgnn::run {

struct RunConfig {
    std::string name = "sgnn";
    std::string out;  // empty: runs/<name>-<timestamp>
    std::uint64_t seed = 1;
    int trainers = 1;
    bool deterministic = false;
    std::string data;  // a corpus to train from (sgnn simulate); empty: live simulators
    sim::TaskConfig task;
    stream::StreamConfig stream;
    train::TrainConfig train;
    coord::ScheduleConfig schedule;
    double progress_interval = 2.0;
    std::int64_t checkpoint_every = 0;  // steps; 0: not by step count
    double checkpoint_minutes = 30.0;   // wall minutes; 0: not by time
    int checkpoint_keep = 3;
    double checkpoint_timeout = 600.0;  // seconds a checkpoint write may take before the job is stopped
    std::string resume;                 // checkpoint file to continue from (resolved); empty: a fresh run
    bool allow_reshard = false;         // resume with another trainer count
    bool resume_auto = false;           // --resume auto found no checkpoint: a fresh start that may
                                        // replace the outputs of a run that never checkpointed
    int debug_fail_rank = -1;           // test-only: this rank throws after debug_fail_after seconds
    double debug_fail_after = 1.0;
    std::string effective_ini;  // the full effective configuration, as written to config.ini
};

}  // namespace sgnn::run
