#include "sgnn/coord/options.hpp"

namespace sgnn::coord {

std::vector<config::OptionSpec> schedule_options() {
    using config::default_text;
    using Type = config::OptionSpec::Type;
    const ScheduleConfig schedule;
    return {
        {"curriculum.stages", Type::integer, default_text(schedule.stages),
         "prior schedule stages; 1 = fixed prior, n > 1 widens every prior range in n steps", 1, 10000},
        {"curriculum.start_width", Type::real, default_text(schedule.start_width),
         "width of the first stage, as a fraction of each prior range", 0.01, 1},
        {"curriculum.steps", Type::integer, default_text(schedule.ramp_steps),
         "steps over which the curriculum reaches the full prior; 0 = half of "
         "train.steps",
         0, 1e9},
    };
}

ScheduleConfig read_schedule_options(const config::OptionReader& v, std::int64_t train_steps) {
    ScheduleConfig schedule;
    schedule.stages = v.small_integer("curriculum.stages");
    schedule.start_width = v.number("curriculum.start_width");
    schedule.ramp_steps = v.integer("curriculum.steps");
    if (schedule.ramp_steps > train_steps)
        v.fail("curriculum.steps", "must not exceed train.steps (" + v.text("train.steps") + ")");
    return schedule;
}

}  // namespace sgnn::coord
