// Mixtures of mechanisms: labels, masked targets, determinism and configuration errors.
#include "sgnn/error.hpp"
#include "sgnn/sim/mixture.hpp"
#include "sgnn/sim/task.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace sgnn::sim;
using Catch::Matchers::Contains;

namespace {

TaskConfig sir_seir(double sir_weight, double seir_weight) {
    TaskConfig config;
    config.model = "mixture";
    config.mixture = {{"sir", sir_weight}, {"seir", seir_weight}};
    config.targets = {"mechanism", "log_R0", "latent_period"};
    return config;
}

struct Drawn {
    std::vector<std::uint64_t> indices;
    std::vector<float> inputs, targets, labels;
    GenerateResult result;
};

Drawn draw(const Task& task, std::uint64_t first, int count, int threads = 1) {
    Drawn d;
    const SampleLayout& l = task.layout();
    d.indices.resize(static_cast<std::size_t>(count));
    d.inputs.resize(static_cast<std::size_t>(count * l.n_inputs));
    d.targets.resize(static_cast<std::size_t>(count * l.n_targets()));
    d.labels.resize(static_cast<std::size_t>(count));
    d.result = generate_samples(task, 7, Purpose::train, first, count, 1.0,
                                {d.indices.data(), d.inputs.data(), d.targets.data(), d.labels.data(), count}, threads);
    return d;
}

}  // namespace

TEST_CASE("a mixture labels each sample with its mechanism and masks what it lacks", "[mixture]") {
    const auto task = make_task(sir_seir(1.0, 3.0));
    const SampleLayout& layout = task->layout();
    REQUIRE(layout.class_names == std::vector<std::string>{"sir", "seir"});
    REQUIRE(layout.target_names == std::vector<std::string>{"log_R0", "latent_period"});
    const int n = 4000;
    const Drawn d = draw(*task, 0, n);
    REQUIRE(d.result.valid == n);
    int seir = 0;
    for (int k = 0; k < n; ++k) {
        const float label = d.labels[static_cast<std::size_t>(k)];
        const float r0 = d.targets[static_cast<std::size_t>(2 * k)],
                    latent = d.targets[static_cast<std::size_t>(2 * k + 1)];
        REQUIRE((label == 0.0f || label == 1.0f));
        CHECK(std::isfinite(r0));                      // both mechanisms have R0
        CHECK(std::isnan(latent) == (label == 0.0f));  // only SEIR has a latent period
        seir += label == 1.0f;
    }
    // Weights 1:3, so P(seir) = 0.75; binomial SE sqrt(0.75 * 0.25 / 4000) = 0.0068.
    CHECK(std::fabs(seir / static_cast<double>(n) - 0.75) < 5 * 0.0068);
}

TEST_CASE("the target 'parameters' is every mechanism's parameter vector, padded and masked", "[mixture]") {
    TaskConfig config = sir_seir(1.0, 1.0);
    config.targets = {"mechanism", "parameters"};
    config.observation = {"report"};
    const auto task = make_task(config);
    const std::vector<std::string> expected{
        "R0", "infectious_period", "population", "initial_infected", "reporting_rate", "latent_period"};
    REQUIRE(task->layout().target_names == expected);
    const Drawn d = draw(*task, 0, 200);
    for (int k = 0; k < d.result.valid; ++k) {
        const float* row = d.targets.data() + static_cast<std::size_t>(k) * expected.size();
        for (std::size_t t = 0; t + 1 < expected.size(); ++t) CHECK(std::isfinite(row[t]));
        CHECK(std::isnan(row[5]) == (d.labels[static_cast<std::size_t>(k)] == 0.0f));  // SIR has no latent period
    }
    config.targets = {"parameters", "R0"};
    CHECK_NOTHROW(make_task(config));  // listed parameters are not repeated
    config.targets = {"parameters", "log_R0", "log_R0"};
    CHECK_THROWS_WITH(make_task(config), Contains("listed twice"));
}

TEST_CASE("a mixture's sample i does not depend on how samples are split or threaded", "[mixture][determinism]") {
    const auto task = make_task(sir_seir(1.0, 1.0));
    const Drawn whole = draw(*task, 100, 256);
    const Drawn threaded = draw(*task, 100, 256, 2);
    const Drawn tail = draw(*task, 100 + 77, 256 - 77);
    CHECK(whole.inputs == threaded.inputs);
    CHECK(whole.labels == threaded.labels);
    const std::size_t n_in = static_cast<std::size_t>(task->layout().n_inputs);
    CHECK(std::memcmp(whole.inputs.data() + 77 * n_in, tail.inputs.data(), tail.inputs.size() * sizeof(float)) == 0);
    CHECK(std::equal(whole.labels.begin() + 77, whole.labels.end(), tail.labels.begin()));
}

TEST_CASE("mixture configuration errors name the key", "[mixture]") {
    TaskConfig config = sir_seir(1.0, 1.0);
    config.targets = {"mechanism", "immunity_period"};
    CHECK_THROWS_WITH(make_task(config), Contains("sim.targets") && Contains("immunity_period"));
    config = sir_seir(1.0, 1.0);
    config.mixture = {{"sir", 1.0}, {"lotka_volterra", 1.0}};
    config.targets = {"mechanism"};
    CHECK_THROWS_WITH(make_task(config), Contains("sim.mixture") && Contains("same shape"));
    config.mixture = {{"sir", 1.0}};
    CHECK_THROWS_WITH(make_task(config), Contains("sim.mixture") && Contains("two"));
    config.mixture = {{"sir", 1.0}, {"seir", 0.0}};
    CHECK_THROWS_WITH(make_task(config), Contains("sim.mixture") && Contains("> 0"));
    TaskConfig single;
    single.targets = {"mechanism"};
    CHECK_THROWS_WITH(make_task(single), Contains("sim.model = mixture"));
}

TEST_CASE("parameterized by the growth rate, R0 follows from r and the periods", "[mixture][growth_rate]") {
    // R0 = (1 + r L)(1 + r P) with a latent period L, 1 + r P without (continuous time).
    TaskConfig config = sir_seir(1, 1);
    config.options.parameterize_by = "growth_rate";
    config.targets = {"mechanism", "R0", "growth_rate", "infectious_period", "latent_period"};
    config.priors = {{"growth_rate", "uniform(0.05, 0.25)"}};
    const auto task = make_task(config);
    const auto& names = task->parameter_names();
    REQUIRE(std::find(names.begin(), names.end(), "growth_rate") != names.end());
    CHECK(std::find(names.begin(), names.end(), "R0") == names.end());
    const Drawn d = draw(*task, 0, 200);
    int seen[2] = {0, 0};
    for (int j = 0; j < d.result.valid; ++j) {
        const float* t = d.targets.data() + static_cast<std::size_t>(j) * 4;
        const double r = t[1], period = t[2];
        const bool seir = d.labels[static_cast<std::size_t>(j)] == 1.0f;
        ++seen[seir];
        CHECK(r >= 0.05);
        CHECK(r <= 0.25);
        const double expected = (1.0 + r * period) * (seir ? 1.0 + r * t[3] : 1.0);
        CHECK(t[0] == Approx(expected).epsilon(1e-5));
        if (!seir) CHECK(std::isnan(t[3]));
    }
    CHECK(seen[0] > 50);
    CHECK(seen[1] > 50);
    // Every parameter draw lands in its own column of the mixture's table.
    const IndexedSamples rows = generate_indexed_samples(*task, 7, Purpose::train, 0, 20);
    const std::size_t g =
        static_cast<std::size_t>(std::find(names.begin(), names.end(), "growth_rate") - names.begin());
    for (int j = 0; j < 20; ++j) CHECK(rows.parameters[static_cast<std::size_t>(j) * names.size() + g] >= 0.05);

    TaskConfig age;
    age.model = "age_sir";
    age.options.parameterize_by = "growth_rate";
    CHECK_THROWS_WITH(make_task(age), Contains("sim.parameterize_by"));
}
