#include "sgnn/error.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/resume.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace sgnn::stream;

TEST_CASE("rank roles follow the documented layout", "[layout]") {
    const RankLayout l(6, 2);  // 0 coordinator, 1-2 trainers, 3-5 simulators
    CHECK(l.trainer_rank(0) == 1);
    CHECK(l.trainer_index(2) == 1);
    CHECK_FALSE(l.is_trainer(0));
    CHECK(l.simulator_ranks() == std::vector<int>{3, 4, 5});
    CHECK(l.feeders_of(0) == std::vector<int>{3, 5});
    CHECK(l.feeders_of(1) == std::vector<int>{4});
    CHECK(l.dedicated_simulators() == 3);
}

TEST_CASE("the coordinator simulates when no rank is left for it", "[layout]") {
    const RankLayout two(2, 1);
    CHECK(two.simulator_ranks() == std::vector<int>{0});
    CHECK(two.feeders_of(0) == std::vector<int>{0});
    const RankLayout one(1, 1);
    CHECK(one.single_process());
    CHECK(one.simulator_ranks().empty());
    CHECK(one.trainer_rank(0) == 0);
}

TEST_CASE("feeders own disjoint batch sets that cover every batch", "[layout]") {
    for (int world : {2, 3, 4, 5, 8}) {
        for (int trainers = 1; trainers < world; ++trainers) {
            const RankLayout l(world, trainers);
            std::set<std::uint64_t> seen;
            for (int rank : l.simulator_ranks()) {
                for (const Lane& lane : l.lanes_of(rank)) {
                    for (std::uint64_t k = static_cast<std::uint64_t>(lane.feeder_slot); k < 60;
                         k += static_cast<std::uint64_t>(lane.feeder_count)) {
                        REQUIRE(seen.insert(global_batch_index(0, l.trainers(), lane.trainer_index, k)).second);
                    }
                }
            }
            INFO("world " << world << ", trainers " << trainers);
            CHECK(seen.size() == static_cast<std::size_t>(60 * trainers));
        }
    }
}

TEST_CASE("impossible layouts are configuration errors naming trainers", "[layout]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(RankLayout(4, 4), Contains("trainers = 4") && Contains("[1, 3]"));
    CHECK_THROWS_WITH(RankLayout(1, 2), Contains("trainers = 2"));
    CHECK_THROWS_AS(RankLayout(4, 0), sgnn::ConfigError);
}
