#include "sgnn/error.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/stream/batch.hpp"
#include "sgnn/stream/layout.hpp"
#include "sgnn/stream/simulator_worker.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

using namespace sgnn;

namespace {

struct Samples {
    std::vector<std::uint64_t> indices;
    std::vector<float> inputs, targets, labels;
    explicit Samples(int n, const sim::SampleLayout& layout)
        : indices(static_cast<std::size_t>(n)),
          inputs(static_cast<std::size_t>(n * layout.n_inputs)),
          targets(static_cast<std::size_t>(n * layout.n_targets())),
          labels(static_cast<std::size_t>(n)) {}
    sim::SampleArrays arrays() {
        return {indices.data(), inputs.data(), targets.data(), labels.data(), static_cast<int>(indices.size())};
    }
};

}  // namespace

TEST_CASE("sample i has the same bits however the samples are split", "[task][determinism]") {
    const auto task = sim::make_task(sim::TaskConfig{});
    const auto& layout = task->layout();
    Samples whole(512, layout), halves(512, layout), threaded(512, layout);
    sim::generate_samples(*task, 5, sim::Purpose::train, 1000, 512, 1.0, whole.arrays());
    Samples first(256, layout), second(256, layout);
    sim::generate_samples(*task, 5, sim::Purpose::train, 1000, 256, 1.0, first.arrays());
    sim::generate_samples(*task, 5, sim::Purpose::train, 1256, 256, 1.0, second.arrays());
    sim::generate_samples(*task, 5, sim::Purpose::train, 1000, 512, 1.0, threaded.arrays(), 2);
    const std::size_t half = first.inputs.size();
    CHECK(std::memcmp(whole.inputs.data(), first.inputs.data(), half * sizeof(float)) == 0);
    CHECK(std::memcmp(whole.inputs.data() + half, second.inputs.data(), half * sizeof(float)) == 0);
    CHECK(whole.inputs == threaded.inputs);
    CHECK(whole.targets == threaded.targets);
    CHECK(whole.indices[0] == 1000);
    CHECK(whole.indices[511] == 1511);
}

TEST_CASE("simulating a block of trajectories together gives each sample's own bits", "[task][determinism]") {
    for (const char* model : {"sir", "seir", "age_sir"}) {
        sim::TaskConfig config;
        config.model = model;
        const auto task = sim::make_task(config);
        Samples block(70, task->layout());
        sim::generate_samples(*task, 9, sim::Purpose::train, 500, 70, 1.0, block.arrays());
        for (int j = 0; j < 70; ++j) {
            sim::SampleStream rng(9, sim::Purpose::train, 500 + static_cast<std::uint64_t>(j));
            std::vector<float> inputs(static_cast<std::size_t>(task->layout().n_inputs)), targets(3);
            float label = -1.0f;
            REQUIRE(task->generate(rng, 1.0, {inputs.data(), targets.data(), &label}));
            CHECK(label == 0.0f);
            INFO(model << " sample " << j);
            CHECK(std::memcmp(inputs.data(), block.inputs.data() + j * inputs.size(), inputs.size() * 4) == 0);
            CHECK(std::memcmp(targets.data(), block.targets.data() + j * 3, 12) == 0);
        }
    }
}

TEST_CASE("batches from 1 and 3 simulator ranks hold identical samples once sorted", "[task][determinism]") {
    const auto task = sim::make_task(sim::TaskConfig{});
    stream::StreamConfig config;
    config.seed = 11;
    config.batch_size = 32;
    const comm::ScheduleStage stage{0, ~0ull, 1.0, 0, 0};
    // Every batch each feeder makes for the first 12 local batches of one trainer.
    auto collect = [&](int world_size) {
        const stream::RankLayout layout(world_size, 1);
        std::map<std::uint64_t, std::vector<float>> by_index;
        for (int rank : layout.simulator_ranks()) {
            for (const stream::Lane& lane : layout.lanes_of(rank)) {
                for (std::uint64_t k = static_cast<std::uint64_t>(lane.feeder_slot); k < 12;
                     k += static_cast<std::uint64_t>(lane.feeder_count)) {
                    stream::BatchBuffer batch(config.batch_size, task->layout().n_inputs, task->layout().n_targets());
                    stream::fill_batch(*task, config,
                                       stream::global_batch_index(0, layout.trainers(), lane.trainer_index, k), stage,
                                       batch);
                    for (std::uint32_t j = 0; j < batch.header().sample_count; ++j) {
                        const float* x = batch.inputs() + j * static_cast<std::size_t>(batch.n_inputs());
                        by_index[batch.indices()[j]] = std::vector<float>(x, x + batch.n_inputs());
                    }
                }
            }
        }
        return by_index;
    };
    const auto one = collect(3);    // coordinator, trainer, 1 simulator
    const auto three = collect(5);  // coordinator, trainer, 3 simulators
    REQUIRE(one.size() == 12 * 32);
    CHECK(one == three);
}

TEST_CASE("SIR samples look like epidemics and carry their targets", "[task]") {
    sim::TaskConfig config;
    config.targets = {"log_R0", "R0", "beta", "gamma"};
    const auto task = sim::make_task(config);
    Samples s(64, task->layout());
    const auto result = sim::generate_samples(*task, 3, sim::Purpose::eval, 0, 64, 1.0, s.arrays());
    REQUIRE(result.valid == 64);
    for (int i = 0; i < 64; ++i) {
        const float* t = s.targets.data() + 4 * i;
        CHECK(std::exp(t[0]) == Approx(t[1]).epsilon(1e-5));
        CHECK(t[2] / t[3] == Approx(t[1]).epsilon(1e-4));  // R0 = beta / gamma
        CHECK(t[1] >= 1.5f);
        CHECK(t[1] <= 5.0f);
        for (int d = 0; d < 60; ++d) REQUIRE(s.inputs[static_cast<std::size_t>(60 * i + d)] >= 0.0f);
    }
}

TEST_CASE("chain-binomial SIR mean follows the deterministic recursion", "[task][sir]") {
    // Large population: the mean of the stochastic model tracks its mean-field
    // recursion. 400 runs; tolerance 5 standard errors of the mean incidence.
    sim::SirParameters params{0.6, 0.25, 1000000, 1000};
    const int days = 40, runs = 400;
    std::vector<double> mean(days, 0.0), sq(days, 0.0);
    std::vector<std::int64_t> incidence(days);
    for (int r = 0; r < runs; ++r) {
        sim::SampleStream rng(1, sim::Purpose::test, static_cast<std::uint64_t>(r));
        sim::simulate_chain_binomial_sir(params, days, rng, incidence.data());
        for (int d = 0; d < days; ++d) {
            mean[d] += static_cast<double>(incidence[d]) / runs;
            sq[d] += static_cast<double>(incidence[d]) * incidence[d] / runs;
        }
    }
    double s = 999000, i = 1000;
    for (int d = 0; d < days; ++d) {
        const double infected = s * -std::expm1(-params.beta * i / 1e6);
        const double recovered = i * -std::expm1(-params.gamma);
        s -= infected;
        i += infected - recovered;
        const double se = std::sqrt(std::max(1.0, sq[d] - mean[d] * mean[d]) / runs);
        INFO("day " << d);
        // Mean-field drift (Jensen) is far below 1% at this population size.
        CHECK(std::fabs(mean[d] - infected) < 5 * se + 0.01 * infected);
    }
}

TEST_CASE("task configuration errors name the key", "[task]") {
    using Catch::Matchers::Contains;
    sim::TaskConfig bad_target;
    bad_target.targets = {"log_R0", "carrying_capacity"};
    CHECK_THROWS_WITH(sim::make_task(bad_target), Contains("sim.targets") && Contains("carrying_capacity"));
    sim::TaskConfig bad_model;
    bad_model.model = "seirz";
    CHECK_THROWS_WITH(sim::make_task(bad_model), Contains("sim.model"));
    sim::TaskConfig bad_prior;
    bad_prior.priors["reporting_rate"] = "uniform(0.5, 1.5)";
    CHECK_THROWS_WITH(sim::make_task(bad_prior), Contains("prior.reporting_rate"));
}

TEST_CASE("an onset offset observes the trajectory from that many days after the seeding", "[task][onset]") {
    sim::TaskConfig config;
    config.model = "seir";
    config.days = 30;
    config.observation = {};
    config.transform = "identity";
    config.targets = {"onset_offset", "peak_day"};
    config.options.onset_offset = true;
    config.priors["onset_offset"] = "uniform_int(0, 12)";
    const auto task = sim::make_task(config);
    const auto& names = task->parameter_names();
    REQUIRE(names.back() == "onset_offset");
    const auto simulator = sim::make_simulator("seir");
    Samples block(40, task->layout());
    REQUIRE(sim::generate_samples(*task, 4, sim::Purpose::train, 0, 40, 1.0, block.arrays()).valid == 40);
    std::vector<double> params(names.size()), trajectory(42);
    for (int j = 0; j < 40; ++j) {
        // The sample's stream: its prior draws, then the simulation from the seeding.
        sim::SampleStream rng(4, sim::Purpose::train, static_cast<std::uint64_t>(j));
        task->draw_parameters(rng, 1.0, params.data());
        simulator->simulate(params.data(), 42, rng, trajectory.data());
        const int offset = static_cast<int>(params.back());
        INFO("sample " << j << ", offset " << offset);
        CHECK(block.targets[2 * j] == static_cast<float>(offset));
        for (int d = 0; d < 30; ++d) CHECK(block.inputs[30 * j + d] == static_cast<float>(trajectory[offset + d]));
        // Derived quantities describe the observed window: the peak day counts from its start.
        const auto peak = std::max_element(trajectory.begin() + offset, trajectory.begin() + offset + 30);
        CHECK(block.targets[2 * j + 1] == static_cast<float>(peak - trajectory.begin() - offset + 1));
    }
}

TEST_CASE("with onset offsets a SEIR series no longer gives itself away on its first day", "[task][onset]") {
    // Seeded in I, a SEIR epidemic reports nothing on day 0 (no one has left E yet);
    // SIR reports its first infections. Observed from a random later day, both start
    // with cases at comparable rates. The model-selection design's priors, 4000 each.
    const auto first_day_share = [](const std::string& model, bool offset) {
        sim::TaskConfig config;
        config.model = model;
        config.days = 100;
        config.targets = {"R0"};
        config.options.parameterize_by = "growth_rate";
        config.options.onset_offset = offset;
        const auto task = sim::make_task(config);
        Samples s(4000, task->layout());
        const auto result = sim::generate_samples(*task, 8, sim::Purpose::test, 0, 4000, 1.0, s.arrays());
        int nonzero = 0;
        for (int j = 0; j < result.valid; ++j) nonzero += s.inputs[static_cast<std::size_t>(100 * j)] > 0.0f;
        return static_cast<double>(nonzero) / result.valid;
    };
    const double sir = first_day_share("sir", false), seir = first_day_share("seir", false);
    const double sir_offset = first_day_share("sir", true), seir_offset = first_day_share("seir", true);
    WARN("first-day share with cases: sir " << sir << ", seir " << seir << "; with offsets sir " << sir_offset
                                            << ", seir " << seir_offset);
    // Measured at this seed: 0.918 and 0 without offsets, 0.979 and 0.897 with them
    // (SEIR keeps some zeros: offsets of 0 and 1 day, and slower starts). Standard
    // errors are below 0.005.
    CHECK(seir == 0.0);
    CHECK(sir > 0.85);
    CHECK(seir_offset > 0.85);
    CHECK(std::fabs(sir_offset - seir_offset) < 0.1);
}

TEST_CASE("a sample simulated from its own prior draws is the sample", "[task][onset]") {
    // simulate_from continues the sample's stream after its prior draws, as generate
    // does: the same parameters and stream give the same bits (the predictive check's
    // replicates are drawn this way, from posterior draws and fresh streams).
    sim::TaskConfig config;
    config.model = "seir";
    config.days = 50;
    config.observation = {"report", "negbin", "truncate"};
    config.priors["observed_days"] = "uniform_int(10, 50)";
    config.options.onset_offset = true;
    config.targets = {"R0"};
    const auto task = sim::make_task(config);
    REQUIRE(task->parameter_priors().size() == task->parameter_names().size());
    std::vector<double> params(task->parameter_names().size());
    std::vector<float> generated(50), replayed(50), target(1);
    float label = 0.0f;
    for (std::uint64_t j = 0; j < 20; ++j) {
        sim::SampleStream a(6, sim::Purpose::test, j), b(6, sim::Purpose::test, j);
        const bool valid = task->generate(a, 1.0, {generated.data(), target.data(), &label});
        task->draw_parameters(b, 1.0, params.data());
        CHECK(task->simulate_from(params.data(), b, replayed.data()) == valid);
        CHECK(generated == replayed);
    }
}
