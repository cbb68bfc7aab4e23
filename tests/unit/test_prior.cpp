#include "sgnn/error.hpp"
#include "sgnn/sim/prior.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace sgnn::sim;

namespace {
const ParameterDomain kPositive{0.0, std::numeric_limits<double>::infinity(), false};
const ParameterDomain kCount{1.0, 1e9, true, true};
}  // namespace

TEST_CASE("prior specs parse and draw inside their range", "[prior]") {
    const auto u = ParameterPrior::parse("prior.x", "uniform(2, 4)", kPositive);
    const auto lu = ParameterPrior::parse("prior.x", " loguniform( 1e2 ,1e4 ) ", kPositive);
    const auto i = ParameterPrior::parse("prior.n", "uniform_int(10, 12)", kCount);
    const auto f = ParameterPrior::parse("prior.x", "fixed(3.5)", kPositive);
    SampleStream rng(1, Purpose::test, 0);
    int seen[3] = {0, 0, 0};
    for (int k = 0; k < 2000; ++k) {
        const double a = u.draw(rng), b = lu.draw(rng), c = i.draw(rng);
        REQUIRE((a >= 2 && a <= 4));
        REQUIRE((b >= 100 && b <= 10000));
        REQUIRE(c == std::floor(c));
        REQUIRE((c >= 10 && c <= 12));
        ++seen[static_cast<int>(c) - 10];
        REQUIRE(f.draw(rng) == 3.5);
    }
    CHECK(seen[0] > 0);
    CHECK(seen[2] > 0);
    CHECK(lu.spec() == "loguniform(100, 10000)");
}

TEST_CASE("a narrowed prior stays centred inside the full range", "[prior]") {
    const auto u = ParameterPrior::parse("prior.x", "uniform(0, 10)", {-1.0, 100.0});
    SampleStream rng(2, Purpose::test, 0);
    for (int k = 0; k < 1000; ++k) {
        const double v = u.draw(rng, 0.2);
        REQUIRE((v >= 4.0 && v <= 6.0));
    }
}

TEST_CASE("bad prior specs name the key and the problem", "[prior]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(3, 3)", kPositive),
                      Contains("prior.R0") && Contains("empty range"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "gauss(1, 2)", kPositive), Contains("unknown distribution"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(-1, 2)", kPositive), Contains("must be a number in (0"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(1, x)", kPositive), Contains("not a finite number"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.n", "uniform(1, 5)", kCount), Contains("integer"));
    CHECK_THROWS_AS(ParameterPrior::parse("prior.R0", "loguniform(0, 2)", {-1.0, 10.0}), sgnn::ConfigError);
}
