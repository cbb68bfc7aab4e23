#include "sgnn/coord/schedule.hpp"
#include "sgnn/error.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <catch2/catch.hpp>

using namespace sgnn;

TEST_CASE("a fixed prior is one full-width stage", "[schedule]") {
    const coord::PriorSchedule s({}, 2, 1000);
    REQUIRE(s.stage_count() == 1);
    CHECK(s.stage_for_batch(123456).width == 1.0);
    CHECK(s.stage_for_batch(0).version == 0);
}

TEST_CASE("a curriculum widens linearly by batch index", "[schedule]") {
    coord::ScheduleConfig config;
    config.stages = 5;
    config.start_width = 0.2;
    config.ramp_steps = 400;
    const coord::PriorSchedule s(config, 2, 1000);
    CHECK(s.stage(0).width == Approx(0.2));
    CHECK(s.stage(2).width == Approx(0.6));
    CHECK(s.stage(4).width == Approx(1.0));
    CHECK(s.first_step(1) == 100);
    CHECK(s.stage(1).first_batch == 200);  // 2 trainers: step 100 starts at batch 200
    CHECK(s.stage_for_batch(199).version == 0);
    CHECK(s.stage_for_batch(200).version == 1);
    CHECK(s.stage_for_batch(5000).version == 4);
    CHECK(s.stage(0).valid_until == s.stage(1).first_batch);
}

TEST_CASE("simulators only use published stages", "[schedule]") {
    coord::ScheduleConfig config;
    config.stages = 3;
    config.ramp_steps = 10;
    const coord::PriorSchedule s(config, 1, 100);
    stream::StageTable table;
    table.add(s.stage(0));
    CHECK(table.find(4) != nullptr);
    CHECK(table.find(5) == nullptr);  // stage 1 starts at batch 5 and is not published
    table.add(s.stage(1));
    CHECK(table.find(5)->version == 1);
}

TEST_CASE("a curriculum shorter than its stages is refused", "[schedule]") {
    coord::ScheduleConfig config;
    config.stages = 10;
    config.ramp_steps = 3;
    CHECK_THROWS_AS(coord::PriorSchedule(config, 1, 100), ConfigError);
}
