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
    CHECK(lu.centre() == Approx(1000.0));
}

TEST_CASE("a narrowed prior stays centred inside the full range", "[prior]") {
    const auto u = ParameterPrior::parse("prior.x", "uniform(0, 10)", {-1.0, 100.0});
    SampleStream rng(2, Purpose::test, 0);
    for (int k = 0; k < 1000; ++k) {
        const double v = u.draw(rng, 0.2);
        REQUIRE((v >= 4.0 && v <= 6.0));
    }
}

TEST_CASE("normal, truncated normal and categorical priors have their moments", "[prior]") {
    const ParameterDomain reals{-INFINITY, INFINITY};
    const auto normal = ParameterPrior::parse("prior.x", "normal(2, 0.5)", reals);
    const auto trunc = ParameterPrior::parse("prior.x", "truncnormal(0, 1, 0, 10)", {0.0, INFINITY});
    const auto tail = ParameterPrior::parse("prior.x", "truncnormal(0, 1, 4, 5)", kPositive);
    const auto cat = ParameterPrior::parse("prior.x", "categorical(1:1, 3:3)", kPositive);
    SampleStream rng(6, Purpose::test, 0);
    const int n = 100000;
    double s_normal = 0, ss_normal = 0, s_trunc = 0, s_tail = 0, threes = 0;
    for (int k = 0; k < n; ++k) {
        const double x = normal.draw(rng);
        s_normal += x;
        ss_normal += x * x;
        const double t = trunc.draw(rng);
        REQUIRE((t >= 0 && t <= 10));
        s_trunc += t;
        const double u = tail.draw(rng);
        REQUIRE((u >= 4 && u <= 5));
        s_tail += u;
        const double c = cat.draw(rng);
        REQUIRE((c == 1 || c == 3));
        threes += c == 3;
    }
    // Means within 5 standard errors: sd/sqrt(n).
    CHECK(std::fabs(s_normal / n - 2.0) < 5 * 0.5 / std::sqrt(n));
    CHECK(std::sqrt(ss_normal / n - (s_normal / n) * (s_normal / n)) == Approx(0.5).epsilon(0.02));
    // Half-normal mean sqrt(2/pi), sd 0.603.
    CHECK(std::fabs(s_trunc / n - std::sqrt(2.0 / M_PI)) < 5 * 0.603 / std::sqrt(n));
    // Normal restricted to [4, 5]: mean (phi(4) - phi(5)) / (Phi(5) - Phi(4)), sd < 0.25.
    const auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); };
    const auto cdf = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    const double tail_mean = (phi(4) - phi(5)) / (cdf(5) - cdf(4));
    CHECK(std::fabs(s_tail / n - tail_mean) < 5 * 0.25 / std::sqrt(n));
    // Weight 3/4 on the value 3: binomial standard error sqrt(p q / n).
    CHECK(std::fabs(threes / n - 0.75) < 5 * std::sqrt(0.75 * 0.25 / n));
    CHECK(cat.centre() == 3.0);
}

TEST_CASE("bad prior specs name the key and the problem", "[prior]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(3, 3)", kPositive),
                      Contains("prior.R0") && Contains("empty range"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "gauss(1, 2)", kPositive), Contains("unknown distribution"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(-1, 2)", kPositive),
                      Contains("must be a number in (0"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "uniform(1, x)", kPositive), Contains("not a finite number"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.n", "uniform(1, 5)", kCount), Contains("integer"));
    CHECK_THROWS_AS(ParameterPrior::parse("prior.R0", "loguniform(0, 2)", {-1.0, 10.0}), sgnn::ConfigError);
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "normal(2, 1)", kPositive), Contains("truncnormal"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "truncnormal(2, 1, -1, 3)", kPositive),
                      Contains("must be a number in (0"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.R0", "categorical(1:0, 2:1)", kPositive), Contains("weights"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.n", "categorical(1.5, 2)", kCount), Contains("integer"));
}

TEST_CASE("a lognormal prior's logarithm has its mean and sd, narrowed around the median", "[prior]") {
    using Catch::Matchers::Contains;
    const auto prior = ParameterPrior::parse("prior.beta", "lognormal(-0.916291, 0.5)", kPositive);  // sbibm's beta
    CHECK(prior.centre() == Approx(0.4).epsilon(1e-6));
    CHECK(std::isinf(prior.upper_bound()));  // kPositive has no bound
    SampleStream rng(7, Purpose::test, 0);
    const int n = 100000;
    double s = 0, ss = 0, s_narrow = 0, ss_narrow = 0;
    for (int k = 0; k < n; ++k) {
        const double x = prior.draw(rng);
        REQUIRE(x > 0);
        s += std::log(x);
        ss += std::log(x) * std::log(x);
        const double y = std::log(prior.draw(rng, 0.5));
        s_narrow += y;
        ss_narrow += y * y;
    }
    // The mean of the logarithm within 5 standard errors; its sd within 2% (the sd's
    // standard error is sd / sqrt(2n), 0.2%).
    CHECK(std::fabs(s / n + 0.916291) < 5 * 0.5 / std::sqrt(n));
    CHECK(std::sqrt(ss / n - (s / n) * (s / n)) == Approx(0.5).epsilon(0.02));
    CHECK(std::fabs(s_narrow / n + 0.916291) < 5 * 0.25 / std::sqrt(n));
    CHECK(std::sqrt(ss_narrow / n - (s_narrow / n) * (s_narrow / n)) == Approx(0.25).epsilon(0.02));
    // Truncated at the parameter's bound, and accepted only 6 S or more below it.
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.p", "lognormal(-1, 0.2)", {0.0, 1.0, false}),
                      Contains("prior.p") && Contains("above 1") && Contains("values must be"));
    const auto bounded = ParameterPrior::parse("prior.a", "lognormal(-0.125, 0.5)", {0.0, 100.0, false});
    CHECK(bounded.upper_bound() == 100.0);
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.x", "lognormal(0, 1)", {-1.0, INFINITY}), Contains("positive"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.beta", "lognormal(0, 0)", kPositive), Contains("positive"));
    CHECK_THROWS_WITH(ParameterPrior::parse("prior.beta", "lognormal(0)", kPositive), Contains("2 values"));
}

TEST_CASE("a prior writes itself back as the spec it was read from", "[prior]") {
    const ParameterDomain positive{0.0, 100.0, false};
    for (const char* spec : {"fixed(2)", "uniform(1, 3)", "loguniform(1.5, 5)", "uniform_int(10, 50)",
                             "truncnormal(2, 1, 0.5, 4)", "categorical(1:0.25, 2:0.75)"}) {
        CHECK(ParameterPrior::parse("prior.x", spec, positive).spec() == spec);
    }
    // A lognormal carries its truncation at the domain's upper bound.
    CHECK(ParameterPrior::parse("prior.x", "lognormal(-0.9, 0.5)", positive).spec() == "lognormal(-0.9, 0.5, 100)");
    const ParameterDomain real{-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), true};
    CHECK(ParameterPrior::parse("prior.x", "normal(0, 1)", real).spec() == "normal(0, 1)");
}
