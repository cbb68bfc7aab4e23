#include "sgnn/error.hpp"
#include "sgnn/sim/observation.hpp"
#include "sgnn/sim/task.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace sgnn::sim;

namespace {
// Undo log1p for tests that look at counts.
double count(float x) { return std::expm1(static_cast<double>(x)); }
}  // namespace

TEST_CASE("negbin observation has variance m + m^2/k", "[observation]") {
    const ObservationModel model({"negbin"}, 7);
    const std::vector<double> incidence(7, 200);
    const double k = 8.0;
    const int runs = 20000;
    double sum = 0, sum_sq = 0;
    std::vector<float> out(7);
    for (int r = 0; r < runs; ++r) {
        SampleStream rng(2, Purpose::test, static_cast<std::uint64_t>(r));
        REQUIRE(model.observe(incidence.data(), &k, rng, out.data()));
        const double x = std::round(count(out[3]));
        sum += x;
        sum_sq += x * x;
    }
    const double mean = sum / runs, var = sum_sq / runs - mean * mean;
    const double expected_var = 200 + 200.0 * 200.0 / k;  // 5200
    // SE of the mean sqrt(var/n); the sample variance's SE for this NB is about
    // var * sqrt((2 + 6/k) / n) < 2.6% of var at n = 20000.
    CHECK(std::fabs(mean - 200) < 5 * std::sqrt(expected_var / runs));
    CHECK(std::fabs(var - expected_var) < 5 * 0.026 * expected_var / 2);
}

TEST_CASE("reporting delay spreads counts later and keeps their total", "[observation]") {
    const ObservationModel model({"delay"}, 40);
    std::vector<double> incidence(40, 0);
    incidence[2] = 1000;
    const double params[] = {4.0, 2.0};  // mean 4 days, sd 2
    std::vector<float> out(40);
    SampleStream rng(1, Purpose::test, 0);
    REQUIRE(model.observe(incidence.data(), params, rng, out.data()));
    double total = 0, first_moment = 0;
    for (int d = 0; d < 40; ++d) {
        const double c = count(out[d]);
        total += c;
        first_moment += c * d;
        if (d < 2) CHECK(c == Approx(0.0).margin(1e-9));
    }
    CHECK(total == Approx(1000.0).epsilon(1e-6));
    // Discretized by days [d, d+1): the mean lag is the gamma mean minus about 1/2.
    CHECK(first_moment / total - 2.0 == Approx(3.5).margin(0.05));
}

TEST_CASE("a given delay distribution is applied by convolution", "[observation]") {
    const ObservationModel model({"delay_pmf"}, 10, {1, 2, 1});  // normalized to 1/4, 1/2, 1/4
    std::vector<double> incidence(10, 0);
    incidence[3] = 400;
    std::vector<float> out(10);
    SampleStream rng(1, Purpose::test, 0);
    REQUIRE(model.observe(incidence.data(), nullptr, rng, out.data()));
    CHECK(count(out[3]) == Approx(100.0));
    CHECK(count(out[4]) == Approx(200.0));
    CHECK(count(out[5]) == Approx(100.0));
    CHECK(count(out[6]) == Approx(0.0).margin(1e-9));
    CHECK_THROWS_WITH(ObservationModel({"delay_pmf"}, 10), Catch::Matchers::Contains("obs.delay_pmf"));
    CHECK_THROWS_WITH(ObservationModel({"delay_pmf"}, 10, {1, -1}), Catch::Matchers::Contains(">= 0"));
}

TEST_CASE("weekend under-reporting is caught up on Monday; weekly sums weeks", "[observation]") {
    const ObservationModel weekend({"weekend", "weekly"}, 28);
    REQUIRE(weekend.output_length() == 4);
    const std::vector<double> incidence(28, 100);
    const double factor[] = {0.5, 0.0};  // weekend_factor, first_weekday (Monday)
    std::vector<float> out(4);
    SampleStream rng(3, Purpose::test, 0);
    REQUIRE(weekend.observe(incidence.data(), factor, rng, out.data()));
    // Week 1 loses part of its weekend to week 2's Monday; later weeks gain what the
    // previous weekend lost. All 2800 cases but the last weekend's backlog are reported.
    double total = 0;
    for (float x : out) total += count(x);
    CHECK(total <= 2800.0);
    CHECK(total >= 2800.0 - 200.0);
    CHECK(count(out[0]) < 700.0);
    CHECK_THROWS_AS(ObservationModel({"weekly", "weekend"}, 28), sgnn::ConfigError);
    // A series that starts on a Wednesday (2): its weekend is days 3 and 4, and day 5,
    // a Monday, catches up.
    const ObservationModel daily({"weekend"}, 7);
    const double wednesday[] = {0.0, 2.0};
    std::vector<float> days(7);
    REQUIRE(daily.observe(std::vector<double>(7, 10.0).data(), wednesday, rng, days.data()));
    const double expected[] = {10, 10, 10, 0, 0, 30, 10};  // Wed, Thu, Fri, Sat, Sun, Mon, Tue
    for (int d = 0; d < 7; ++d) CHECK(count(days[d]) == Approx(expected[d]).epsilon(1e-6));
    CHECK_THROWS_WITH(ObservationModel({"report", "smooth"}, 28), Catch::Matchers::Contains("obs.steps"));
}

TEST_CASE("missing entries are marked -1 at the missing rate", "[observation]") {
    const ObservationModel model({"missing"}, 1000);
    const std::vector<double> incidence(1000, 5);
    const double rate = 0.2;
    std::vector<float> out(1000);
    SampleStream rng(4, Purpose::test, 0);
    REQUIRE(model.observe(incidence.data(), &rate, rng, out.data()));
    const auto missing = std::count(out.begin(), out.end(), -1.0f);
    // Binomial(1000, 0.2): sd 12.6.
    CHECK(std::fabs(missing - 200.0) < 5 * 12.6);
}

TEST_CASE("a task with a weekly observation model has weekly inputs and its parameters as targets", "[observation]") {
    TaskConfig config;
    config.days = 70;
    config.observation = {"report", "delay", "negbin", "weekend", "weekly", "missing"};
    config.targets = {"log_R0", "delay_mean", "weekend_factor"};
    const auto task = make_task(config);
    CHECK(task->layout().n_inputs == 10);
    std::vector<std::uint64_t> indices(16);
    std::vector<float> inputs(160), targets(48), labels(16);
    const auto result = generate_samples(*task, 1, Purpose::test, 0, 16, 1.0,
                                         {indices.data(), inputs.data(), targets.data(), labels.data(), 16});
    CHECK(result.valid == 16);
    for (int i = 0; i < result.valid; ++i) {
        CHECK(targets[static_cast<std::size_t>(3 * i + 1)] >= 2.0f);  // delay_mean ~ uniform(2, 6)
        CHECK(targets[static_cast<std::size_t>(3 * i + 1)] <= 6.0f);
    }
    config.targets = {"delay_mean"};
    config.observation = {"report", "negbin"};
    CHECK_THROWS_WITH(make_task(config), Catch::Matchers::Contains("delay_mean"));
}

TEST_CASE("gaussian and lognormal measurement noise have the stated spread", "[observation]") {
    // 4000 days of a constant series: sample mean within 5 SE, sample sd within 5 SE
    // of the sd (SE of a normal sample's sd: sd / sqrt(2 (n - 1)), about 1.1%).
    const int n = 4000;
    const std::vector<double> series(n, 100.0);
    std::vector<float> out(n);
    const auto moments = [&](const std::vector<double>& v) {
        const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
        double ss = 0.0;
        for (double x : v) ss += (x - mean) * (x - mean);
        return std::make_pair(mean, std::sqrt(ss / (v.size() - 1)));
    };
    {
        const ObservationModel model({"gaussian"}, n, {}, 1, ObservationModel::Transform::identity);
        const double sd = 5.0;
        SampleStream rng(3, Purpose::test, 0);
        REQUIRE(model.observe(series.data(), &sd, rng, out.data()));
        const auto [mean, s] = moments(std::vector<double>(out.begin(), out.end()));
        CHECK(std::fabs(mean - 100.0) < 5 * sd / std::sqrt(n));
        CHECK(std::fabs(s - sd) < 5 * sd / std::sqrt(2.0 * (n - 1)));
    }
    {
        const ObservationModel model({"lognormal"}, n, {}, 1, ObservationModel::Transform::identity);
        const double sdlog = 0.2;
        SampleStream rng(4, Purpose::test, 0);
        REQUIRE(model.observe(series.data(), &sdlog, rng, out.data()));
        std::vector<double> logs;
        for (float x : out) logs.push_back(std::log(x / 100.0));
        const auto [mean, s] = moments(logs);  // log(x / 100) ~ N(0, sdlog)
        CHECK(std::fabs(mean) < 5 * sdlog / std::sqrt(n));
        CHECK(std::fabs(s - sdlog) < 5 * sdlog / std::sqrt(2.0 * (n - 1)));
    }
}

TEST_CASE("transforms: identity keeps negative values, log1p drops them", "[observation]") {
    const std::vector<double> series{1.0, 0.5, 0.2};
    const double sd = 10.0;  // makes some entries negative
    std::vector<float> out(3);
    const ObservationModel identity({"gaussian"}, 3, {}, 1, ObservationModel::Transform::identity);
    const ObservationModel log1p({"gaussian"}, 3, {}, 1, ObservationModel::Transform::log1p);
    int negative = 0, dropped = 0;
    for (int r = 0; r < 200; ++r) {
        SampleStream a(5, Purpose::test, static_cast<std::uint64_t>(r)),
            b(5, Purpose::test, static_cast<std::uint64_t>(r));
        REQUIRE(identity.observe(series.data(), &sd, a, out.data()));
        const bool any_negative = std::any_of(out.begin(), out.end(), [](float x) { return x < 0.0f; });
        negative += any_negative;
        const bool kept = log1p.observe(series.data(), &sd, b, out.data());  // same draws as `a`
        dropped += !kept;
        CHECK(any_negative == !kept);
    }
    CHECK(negative > 100);
    CHECK(dropped == negative);
    CHECK_THROWS_WITH(ObservationModel({"missing"}, 3, {}, 1, ObservationModel::Transform::identity),
                      Catch::Matchers::Contains("obs.transform"));
    CHECK_THROWS_WITH(ObservationModel::parse_transform("log"), Catch::Matchers::Contains("obs.transform"));
}

TEST_CASE("each channel is observed by the same steps, one after the other", "[observation]") {
    // Two channels (prey, predators), weekly totals: output is 2 x 2 weeks.
    const ObservationModel model({"weekly"}, 14, {}, 2);
    CHECK(model.channel_length() == 2);
    CHECK(model.output_length() == 4);
    std::vector<double> series(28);
    for (int d = 0; d < 14; ++d) {
        series[static_cast<std::size_t>(d)] = 1.0;
        series[static_cast<std::size_t>(14 + d)] = 2.0;
    }
    std::vector<float> out(4);
    SampleStream rng(1, Purpose::test, 0);
    REQUIRE(model.observe(series.data(), nullptr, rng, out.data()));
    CHECK(count(out[0]) == Approx(7.0));
    CHECK(count(out[1]) == Approx(7.0));
    CHECK(count(out[2]) == Approx(14.0));
    CHECK(count(out[3]) == Approx(14.0));
}

TEST_CASE("a survey counts positives among survey_size people: Binomial(n, p), p clamped to [0, 1]", "[observation]") {
    const ObservationModel model({"survey"}, 7);
    // Shares as an ODE gives them, with round-off outside [0, 1] on both sides.
    const std::vector<double> shares{0.3, 0.3, 0.3, 0.0, 1e-6, -1e-12, 1.0 + 1e-12};
    const double size = 1000.0;
    const int runs = 20000;
    double sum = 0, sum_sq = 0;
    std::vector<float> out(7);
    for (int r = 0; r < runs; ++r) {
        SampleStream rng(3, Purpose::test, static_cast<std::uint64_t>(r));
        REQUIRE(model.observe(shares.data(), &size, rng, out.data()));
        const double x = std::round(count(out[0]));
        sum += x;
        sum_sq += x * x;
        CHECK(out[5] == 0.0f);                       // p < 0 reads as 0
        CHECK(std::round(count(out[6])) == 1000.0);  // p > 1 reads as 1
    }
    const double mean = sum / runs, var = sum_sq / runs - mean * mean;
    const double expected_var = size * 0.3 * 0.7;  // 210
    // The sample variance of a near-normal count has SE var * sqrt(2 / n), 1% here.
    CHECK(std::fabs(mean - 300.0) < 5 * std::sqrt(expected_var / runs));
    CHECK(std::fabs(var - expected_var) < 5 * expected_var * std::sqrt(2.0 / runs));
    const double nan = std::nan("");
    const std::vector<double> bad{0.3, nan, 0.3, 0.3, 0.3, 0.3, 0.3};
    SampleStream rng(3, Purpose::test, 0);
    CHECK_FALSE(model.observe(bad.data(), &size, rng, out.data()));  // a failed solve is dropped
}

TEST_CASE("clamp bounds every value, then lognormal noise multiplies the clamped value", "[observation]") {
    const ObservationModel clamp_only({"clamp"}, 7, {}, 1, ObservationModel::Transform::identity);
    const std::vector<double> values{-5.0, 0.0, 1e-20, 3.0, 1e4, 2e4, 1e300};
    const double bounds[] = {1e-10, 1e4};
    std::vector<float> out(7);
    SampleStream rng(4, Purpose::test, 0);
    REQUIRE(clamp_only.observe(values.data(), bounds, rng, out.data()));
    const std::vector<float> expected{1e-10f, 1e-10f, 1e-10f, 3.0f, 1e4f, 1e4f, 1e4f};
    for (std::size_t d = 0; d < 7; ++d) CHECK(out[d] == expected[d]);

    // Bounds the wrong way round drop the sample.
    const double crossed[] = {1.0, 0.5};
    CHECK_FALSE(clamp_only.observe(values.data(), crossed, rng, out.data()));

    // The benchmark's order: a negative ODE round-off becomes 1e-10, then noisy and positive.
    const ObservationModel both({"clamp", "lognormal"}, 7, {}, 1, ObservationModel::Transform::identity);
    const double params[] = {1e-10, 1e4, 0.1};
    REQUIRE(both.observe(values.data(), params, rng, out.data()));
    CHECK(out[0] > 0.0f);
    CHECK(std::log(out[0] / 1e-10) == Approx(0.0).margin(0.1 * 6));  // within 6 sd of the clamp
    CHECK(std::log(out[5] / 1e4) == Approx(0.0).margin(0.1 * 6));
}

TEST_CASE("truncate keeps the first observed_days entries and marks the rest missing", "[observation][truncate]") {
    const std::vector<double> incidence = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
    SampleStream rng(4, Purpose::test, 0);
    std::vector<float> out(10);
    const ObservationModel model({"truncate"}, 10);
    for (const double kept : {1.0, 4.0, 10.0, 25.0}) {
        REQUIRE(model.observe(incidence.data(), &kept, rng, out.data()));
        const int seen = static_cast<int>(std::min(kept, 10.0));
        for (int d = 0; d < 10; ++d) {
            INFO("observed_days " << kept << ", day " << d);
            CHECK(out[d] == (d < seen ? static_cast<float>(std::log1p(incidence[d])) : -1.0f));
        }
    }
    // After the missing step, both kinds of missing entry read -1; weekly sums come first.
    const ObservationModel both({"missing", "truncate"}, 10);
    const double params[] = {0.5, 6.0};
    REQUIRE(both.observe(incidence.data(), params, rng, out.data()));
    CHECK(std::all_of(out.begin() + 6, out.end(), [](float v) { return v == -1.0f; }));
    const ObservationModel weekly({"weekly", "truncate"}, 21);
    const std::vector<double> days(21, 1.0);
    const double weeks = 2.0;
    std::vector<float> three(3);
    REQUIRE(weekly.observe(days.data(), &weeks, rng, three.data()));
    CHECK(three == std::vector<float>{static_cast<float>(std::log1p(7.0)), static_cast<float>(std::log1p(7.0)), -1.0f});
}

TEST_CASE("truncate is the last step, needs log1p and a prior that reaches sim.days", "[observation][truncate]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(ObservationModel({"truncate", "negbin"}, 10), Contains("'truncate' must be the last step"));
    CHECK_THROWS_WITH(ObservationModel({"truncate"}, 10, {}, 1, ObservationModel::Transform::identity),
                      Contains("needs obs.transform = log1p"));
    TaskConfig config;
    config.days = 100;
    config.observation = {"report", "negbin", "truncate"};
    config.targets = {"R0", "observed_days"};
    CHECK_THROWS_WITH(make_task(config), Contains("prior.observed_days = uniform_int(14, 60)") &&
                                             Contains("lengths up to the 100 entries"));
    config.priors["observed_days"] = "uniform_int(20, 100)";
    const auto task = make_task(config);
    std::vector<std::uint64_t> indices(200);
    std::vector<float> inputs(200 * 100), targets(400), labels(200);
    const auto result = generate_samples(*task, 2, Purpose::test, 0, 200, 1.0,
                                         {indices.data(), inputs.data(), targets.data(), labels.data(), 200});
    REQUIRE(result.valid == 200);
    for (int j = 0; j < result.valid; ++j) {
        // Exactly the first observed_days entries are seen; the tail reads -1.
        const int seen = static_cast<int>(targets[static_cast<std::size_t>(2 * j + 1)]);
        const float* x = inputs.data() + static_cast<std::size_t>(100 * j);
        CHECK(seen >= 20);
        CHECK(std::count(x, x + 100, -1.0f) == 100 - seen);
        CHECK(std::all_of(x, x + seen, [](float v) { return v >= 0.0f; }));
    }
}
