#include "sgnn/coord/schedule.hpp"

#include "sgnn/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace sgnn::coord {

PriorSchedule::PriorSchedule(const ScheduleConfig& config, int trainers, std::int64_t total_steps,
                             ScheduleOrigin origin)
    : trainers_(trainers), origin_(origin) {
    const int n = config.stages;
    const std::int64_t ramp = config.ramp_steps > 0 ? config.ramp_steps : total_steps / 2;
    if (n > 1 && ramp < n - 1) {
        throw ConfigError("curriculum.steps = " + std::to_string(ramp) + ": must be at least curriculum.stages - 1 (" +
                          std::to_string(n - 1) + ") so that every stage gets a step");
    }
    const std::uint64_t t = static_cast<std::uint64_t>(trainers);
    for (int v = 0; v < n; ++v) {
        comm::ScheduleStage stage{};
        stage.version = static_cast<std::uint32_t>(v);
        stage.width = n == 1 ? 1.0 : config.start_width + (1.0 - config.start_width) * v / (n - 1.0);
        const std::int64_t step = n == 1 ? 0 : std::llround(static_cast<double>(v) * ramp / (n - 1.0));
        stage.first_batch =
            origin.batch + static_cast<std::uint64_t>(std::max<std::int64_t>(0, step - origin.step)) * t;
        stages_.push_back(stage);
    }
    for (int v = 0; v < n; ++v) {
        stages_[static_cast<std::size_t>(v)].valid_until = v + 1 < n
                                                               ? stages_[static_cast<std::size_t>(v) + 1].first_batch
                                                               : std::numeric_limits<std::uint64_t>::max();
    }
}

std::int64_t PriorSchedule::first_step(int version) const {
    return origin_.step + static_cast<std::int64_t>((stage(version).first_batch - origin_.batch) /
                                                    static_cast<std::uint64_t>(trainers_));
}

const comm::ScheduleStage& PriorSchedule::stage_for_batch(std::uint64_t batch) const {
    for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) {
        if (it->first_batch <= batch) return *it;
    }
    return stages_.front();
}

}  // namespace sgnn::coord
