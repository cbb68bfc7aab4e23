// The prior schedule: which prior width each batch uses.
//
// Indexed by batch, never by wall time, so a batch's content is a function of
// (seed, batch index) alone. A fixed prior is one stage of width 1. A curriculum of n
// stages widens every prior range linearly from `start_width` to 1 over `ramp_steps`
// training steps, as a staircase: stage v starts at step round(v * ramp_steps / (n-1))
// with width start_width + (1 - start_width) * v / (n-1).
//
// Step s uses batches origin.batch + (s - origin.step) * T onwards. The origin is 0 except
// in a run resumed with another trainer count, whose batches start a fresh range.
#pragma once

#include "sgnn/comm/protocol.hpp"

#include <cstdint>
#include <vector>

namespace sgnn::coord {

struct ScheduleConfig {
    int stages = 1;
    double start_width = 0.25;
    std::int64_t ramp_steps = 0;  // 0: half of the training steps
};

struct ScheduleOrigin {
    std::int64_t step = 0;
    std::uint64_t batch = 0;
};

class PriorSchedule {
public:
    PriorSchedule(const ScheduleConfig& config, int trainers, std::int64_t total_steps, ScheduleOrigin origin = {});

    int stage_count() const { return static_cast<int>(stages_.size()); }
    const comm::ScheduleStage& stage(int version) const { return stages_[static_cast<std::size_t>(version)]; }
    std::int64_t first_step(int version) const;
    const comm::ScheduleStage& stage_for_batch(std::uint64_t batch) const;

private:
    int trainers_;
    ScheduleOrigin origin_;
    std::vector<comm::ScheduleStage> stages_;
};

}  // namespace sgnn::coord
