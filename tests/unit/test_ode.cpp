// PETSc TS ODE models: closed-form solutions, conserved quantities, batching, options.
#include "sgnn/analysis/logistic_posterior.hpp"
#include "sgnn/error.hpp"
#include "sgnn/sim/ode_models.hpp"
#include "sgnn/sim/ode_solver.hpp"
#include "sgnn/sim/parameters.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/task.hpp"

#include "prior_draws.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace sgnn::sim;
using Catch::Matchers::Contains;

namespace {

struct BlockResult {
    std::vector<double> series;
    std::vector<char> ok;
};

BlockResult run_block(const Simulator& simulator, const std::vector<double>& params, int count, int days) {
    BlockResult r;
    r.series.resize(static_cast<std::size_t>(count) * simulator.channels().size() * static_cast<std::size_t>(days));
    r.ok.assign(static_cast<std::size_t>(count), 0);
    std::vector<SampleStream> rngs;
    for (int j = 0; j < count; ++j) rngs.emplace_back(1, Purpose::test, static_cast<std::uint64_t>(j));
    simulator.simulate_batch(params.data(), count, days, rngs.data(), r.series.data(), r.ok.data());
    return r;
}

}  // namespace

TEST_CASE("growth models match their closed-form solutions to 1e-6", "[ode]") {
    // 128 prior draws integrated as one TS system (rtol 1e-8 per step). The global error
    // of an adaptive RK5 solve stays within a small multiple of rtol, so 1e-6 leaves a
    // margin of 100 while still failing for any real error (a wrong right-hand side or
    // a mis-recorded day is off by far more).
    const int count = 128, days = 60;
    for (const char* name : {"logistic", "gompertz", "richards"}) {
        INFO(name);
        const auto simulator = make_simulator(name);
        const auto params = sgnn::test::prior_draws(*simulator, count, 3, Purpose::test);
        const BlockResult r = run_block(*simulator, params, count, days);
        const std::size_t n_params = simulator->parameters().size();
        double worst = 0.0;
        for (int j = 0; j < count; ++j) {
            REQUIRE(r.ok[static_cast<std::size_t>(j)]);
            const double* p = params.data() + static_cast<std::size_t>(j) * n_params;
            for (int t = 0; t < days; ++t) {
                const double exact = std::string(name) == "logistic"   ? logistic_solution(p[0], p[1], p[2], t)
                                     : std::string(name) == "gompertz" ? gompertz_solution(p[0], p[1], p[2], t)
                                                                       : richards_solution(p[0], p[1], p[2], p[3], t);
                const double got = r.series[static_cast<std::size_t>(j) * days + static_cast<std::size_t>(t)];
                worst = std::max(worst, std::fabs(got - exact) / exact);
            }
        }
        WARN(name << ": worst relative error " << worst);
        CHECK(worst <= 1e-6);
    }
}

TEST_CASE("Lotka-Volterra conserves its first integral to the TS tolerance", "[ode]") {
    const int count = 64, days = 60;
    const auto measure_drift = [&](double rtol) {
        SimulatorOptions options;
        options.ode.rtol = rtol;
        options.ode.atol = rtol * 1e-2;
        const auto simulator = make_simulator("lotka_volterra", options);
        const auto params = sgnn::test::prior_draws(*simulator, count, 4, Purpose::test);
        const BlockResult r = run_block(*simulator, params, count, days);
        double worst = 0.0;
        for (int j = 0; j < count; ++j) {
            REQUIRE(r.ok[static_cast<std::size_t>(j)]);
            const double* p = params.data() + static_cast<std::size_t>(j) * 6;
            const double* prey = r.series.data() + static_cast<std::size_t>(j) * 2 * days;
            const double* predators = prey + days;
            const double h0 = lotka_volterra_invariant(p[0], p[1], p[2], p[3], prey[0], predators[0]);
            for (int t = 1; t < days; ++t) {
                const double h = lotka_volterra_invariant(p[0], p[1], p[2], p[3], prey[t], predators[t]);
                worst = std::max(worst, std::fabs(h - h0) / std::fabs(h0));
            }
        }
        return worst;
    };
    const double loose = measure_drift(1e-5), tight = measure_drift(1e-9);
    WARN("relative drift of H: " << loose << " at rtol 1e-5, " << tight << " at rtol 1e-9");
    // The global error of a solve stays within a small multiple of the per-step
    // tolerance (measured: 2-5x); 100x is the bound, with margin for other draws.
    CHECK(tight <= 100 * 1e-9);
    CHECK(loose <= 100 * 1e-5);
    CHECK(tight < loose / 100.0);  // the drift is the integrator's, and shrinks with the tolerance
}

TEST_CASE("a trajectory integrated in a block equals it integrated alone, to the tolerance", "[ode]") {
    // The controller's error norm is the max over the block (-ts_adapt_wnormtype
    // infinity): each trajectory meets its tolerance whatever its block-mates are.
    const int count = 128, days = 40;
    const auto simulator = make_simulator("seir_ode");
    const auto params = sgnn::test::prior_draws(*simulator, count, 5, Purpose::test);
    const BlockResult block = run_block(*simulator, params, count, days);
    const std::size_t n_params = simulator->parameters().size();
    double worst = 0.0;
    for (int j : {0, 17, 127}) {
        std::vector<double> one(params.begin() + static_cast<std::ptrdiff_t>(j * n_params),
                                params.begin() + static_cast<std::ptrdiff_t>((j + 1) * n_params));
        const BlockResult alone = run_block(*simulator, one, 1, days);
        REQUIRE(alone.ok[0]);
        for (int t = 0; t < days; ++t) {
            const double a = alone.series[static_cast<std::size_t>(t)];
            const double b = block.series[static_cast<std::size_t>(j) * days + static_cast<std::size_t>(t)];
            worst = std::max(worst, std::fabs(a - b) / std::max(1.0, std::fabs(a)));
        }
    }
    CHECK(worst <= 1e-6);
}

TEST_CASE("PETSc options pass through, and ones PETSc ignores are refused", "[ode]") {
    OdeSettings settings;
    settings.petsc_options = "-ts_rk_type 3bs -ts_adapt_type basic";
    CHECK_NOTHROW(validate_ode_settings(settings));
    settings.petsc_options = "-ts_rk_typo 3bs";
    CHECK_THROWS_WITH(validate_ode_settings(settings), Contains("ode.petsc_options") && Contains("-ts_rk_typo"));
    settings.petsc_options = "-ts_max_steps 3";  // used, but no series can be integrated
    CHECK_THROWS_WITH(validate_ode_settings(settings), Contains("ode.") && Contains("-ts_max_steps 3"));
    settings.petsc_options = "";
    settings.method = "euler";
    CHECK_THROWS_WITH(validate_ode_settings(settings), Contains("ode.method") && Contains("rk5dp"));

    // The options reach the solver: Bogacki-Shampine 3(2) at a loose tolerance is less
    // accurate than the default Dormand-Prince 5(4) at a tight one.
    SimulatorOptions loose;
    loose.ode.rtol = 1e-4;
    loose.ode.petsc_options = "-ts_rk_type 3bs";
    const auto simulator = make_simulator("logistic", loose);
    const std::vector<double> p{0.3, 1000.0, 10.0};
    const BlockResult r = run_block(*simulator, p, 1, 30);
    REQUIRE(r.ok[0]);
    double worst = 0.0;
    for (int t = 0; t < 30; ++t) {
        worst =
            std::max(worst, std::fabs(r.series[static_cast<std::size_t>(t)] - logistic_solution(0.3, 1000.0, 10.0, t)) /
                                logistic_solution(0.3, 1000.0, 10.0, t));
    }
    CHECK(worst > 1e-8);
    CHECK(worst < 1e-2);
}

namespace {

// Mean-field recursion of the chain-binomial SIR with k steps per day: every
// binomial replaced by its mean. Daily incidence.
std::vector<double> sir_recursion(double beta, double gamma, double n, double i0, int days, int k) {
    double s = n - i0, i = i0;
    std::vector<double> incidence(static_cast<std::size_t>(days));
    for (int d = 0; d < days; ++d) {
        double cases = 0.0;
        for (int step = 0; step < k; ++step) {
            const double infected = s * -std::expm1(-beta / k * i / n);
            const double recovered = i * -std::expm1(-gamma / k);
            s -= infected;
            i += infected - recovered;
            cases += infected;
        }
        incidence[static_cast<std::size_t>(d)] = cases;
    }
    return incidence;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double worst = 0.0;
    for (std::size_t d = 0; d < a.size(); ++d) worst = std::max(worst, std::fabs(a[d] - b[d]));
    return worst;
}

}  // namespace

TEST_CASE("the mean of 2048 chain-binomial SIR runs tracks the deterministic SIR ODE", "[ode][validation]") {
    // N = 1e6, 1000 initially infectious, R0 = 2, infectious period 5 days, 100 days.
    const double n = 1e6, i0 = 1000.0, r0 = 2.0, period = 5.0, gamma = 1.0 / period, beta = r0 * gamma;
    const int days = 100, runs = 2048, k = 24;  // 16 blocks of 128
    SimulatorOptions ode_options;
    ode_options.ode.rtol = 1e-10;
    const auto ode = make_simulator("sir_ode", ode_options);
    const std::vector<double> p{r0, period, n, i0};
    const BlockResult exact = run_block(*ode, p, 1, days);
    REQUIRE(exact.ok[0]);
    const std::vector<double>& ode_incidence = exact.series;
    const double peak = *std::max_element(ode_incidence.begin(), ode_incidence.end());

    // The chain-binomial model with k steps per day is a first-order scheme for the
    // ODE: its mean-field recursion's gap to the ODE halves when k doubles.
    const double gap = max_abs_difference(sir_recursion(beta, gamma, n, i0, days, k), ode_incidence);
    const double gap_half = max_abs_difference(sir_recursion(beta, gamma, n, i0, days, k / 2), ode_incidence);
    CHECK(gap / gap_half == Approx(0.5).margin(0.1));
    CHECK(gap <= 0.02 * peak);
    // The classic daily model (k = 1) is far off: its one-day delay slows the epidemic.
    CHECK(max_abs_difference(sir_recursion(beta, gamma, n, i0, days, 1), ode_incidence) > 0.1 * peak);

    SimulatorOptions options;
    options.steps_per_day = k;
    const auto chain = make_simulator("sir", options);
    std::vector<double> sum(static_cast<std::size_t>(days), 0.0), sum_sq(static_cast<std::size_t>(days), 0.0);
    for (int first = 0; first < runs; first += 32) {
        std::vector<double> params;
        for (int j = 0; j < 32; ++j) params.insert(params.end(), p.begin(), p.end());
        std::vector<SampleStream> rngs;
        for (int j = 0; j < 32; ++j) rngs.emplace_back(6, Purpose::test, static_cast<std::uint64_t>(first + j));
        std::vector<double> series(32 * static_cast<std::size_t>(days));
        std::vector<char> ok(32);
        chain->simulate_batch(params.data(), 32, days, rngs.data(), series.data(), ok.data());
        for (int j = 0; j < 32; ++j) {
            REQUIRE(ok[static_cast<std::size_t>(j)]);
            for (int d = 0; d < days; ++d) {
                const double x = series[static_cast<std::size_t>(j) * days + static_cast<std::size_t>(d)];
                sum[static_cast<std::size_t>(d)] += x;
                sum_sq[static_cast<std::size_t>(d)] += x * x;
            }
        }
    }
    // Each day's mean is within 5 standard errors of the ODE, plus the scheme's gap
    // measured above and 0.1% of the peak for the O(1/N) effect of noise on a
    // nonlinear model's mean.
    double worst = 0.0;
    for (int d = 0; d < days; ++d) {
        const double mean = sum[static_cast<std::size_t>(d)] / runs;
        const double variance = sum_sq[static_cast<std::size_t>(d)] / runs - mean * mean;
        const double se = std::sqrt(std::max(0.0, variance) / runs);
        const double deviation = std::fabs(mean - ode_incidence[static_cast<std::size_t>(d)]);
        INFO("day " << d << ": mean " << mean << ", ODE " << ode_incidence[static_cast<std::size_t>(d)] << ", SE "
                    << se);
        CHECK(deviation <= 5.0 * se + gap + 0.001 * peak);
        worst = std::max(worst, deviation / peak);
    }
    WARN("chain-binomial mean vs SIR ODE: worst gap " << worst << " of the peak; scheme gap " << gap / peak);
}

TEST_CASE("the exact logistic posterior is calibrated on simulated series", "[ode][posterior]") {
    // Series from the simulator itself (PETSc TS, log-normal observation noise); by the
    // tower property E[K - E[K|y]] = 0 and E[(K - E[K|y])^2] = E[Var(K|y)] over the
    // prior predictive. 400 series: both are checked within 4 standard errors, which a
    // wrong likelihood (a day off, the wrong noise scale) misses by far.
    TaskConfig config;
    config.model = "logistic";
    config.days = 20;
    config.observation = {"lognormal"};
    config.targets = {"carrying_capacity"};
    config.priors = {{"intrinsic_growth_rate", "loguniform(0.1, 0.5)"},
                     {"carrying_capacity", "loguniform(1000, 10000)"},
                     {"initial_size", "fixed(20)"},
                     {"noise_sdlog", "fixed(0.1)"}};
    const auto task = make_task(config);
    const int count = 400;
    std::vector<std::uint64_t> indices(count);
    std::vector<float> inputs(static_cast<std::size_t>(count) * 20), targets(count), labels(count);
    const auto result = generate_samples(*task, 5, Purpose::test, 0, count, 1.0,
                                         {indices.data(), inputs.data(), targets.data(), labels.data(), count});
    REQUIRE(result.valid == count);
    sgnn::analysis::LogisticPosteriorSetup setup;
    setup.r_low = 0.1, setup.r_high = 0.5, setup.k_low = 1000, setup.k_high = 10000;
    setup.initial_size = 20, setup.sdlog = 0.1, setup.days = 20, setup.grid = 120;
    std::vector<double> error(count), variance(count);
    for (int j = 0; j < count; ++j) {
        double y[20];
        for (int t = 0; t < 20; ++t)
            y[t] = std::expm1(static_cast<double>(inputs[static_cast<std::size_t>(j) * 20 + t]));
        const sgnn::analysis::LogisticPosterior post = sgnn::analysis::logistic_posterior(setup, y);
        error[static_cast<std::size_t>(j)] = targets[static_cast<std::size_t>(j)] - post.mean_k;
        variance[static_cast<std::size_t>(j)] = post.sd_k * post.sd_k;
    }
    const auto mean_sd = [](const std::vector<double>& v) {
        double m = 0, s = 0;
        for (double x : v) m += x;
        m /= static_cast<double>(v.size());
        for (double x : v) s += (x - m) * (x - m);
        return std::pair<double, double>(m, std::sqrt(s / static_cast<double>(v.size() - 1)));
    };
    const auto [bias, bias_sd] = mean_sd(error);
    CHECK(std::fabs(bias) < 4 * bias_sd / std::sqrt(count));
    std::vector<double> gap(count);
    for (int j = 0; j < count; ++j)
        gap[static_cast<std::size_t>(j)] = error[static_cast<std::size_t>(j)] * error[static_cast<std::size_t>(j)] -
                                           variance[static_cast<std::size_t>(j)];
    const auto [excess, excess_sd] = mean_sd(gap);
    WARN("bias " << bias << ", squared error minus posterior variance " << excess << " (se " << excess_sd / 20 << ")");
    CHECK(std::fabs(excess) < 4 * excess_sd / std::sqrt(count));
}

namespace {

// Classic fixed-step RK4, independent of PETSc: the reference for the benchmark tasks.
template <class Rhs>
std::vector<std::vector<double>> rk4_outputs(Rhs rhs, std::vector<double> y, double interval, int outputs,
                                             int steps_per_interval) {
    const std::size_t n = y.size();
    const double h = interval / steps_per_interval;
    std::vector<std::vector<double>> saved{y};
    std::vector<double> k1(n), k2(n), k3(n), k4(n), tmp(n);
    for (int k = 1; k < outputs; ++k) {
        for (int s = 0; s < steps_per_interval; ++s) {
            rhs(y, k1);
            for (std::size_t i = 0; i < n; ++i) tmp[i] = y[i] + 0.5 * h * k1[i];
            rhs(tmp, k2);
            for (std::size_t i = 0; i < n; ++i) tmp[i] = y[i] + 0.5 * h * k2[i];
            rhs(tmp, k3);
            for (std::size_t i = 0; i < n; ++i) tmp[i] = y[i] + h * k3[i];
            rhs(tmp, k4);
            for (std::size_t i = 0; i < n; ++i) y[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        }
        saved.push_back(y);
    }
    return saved;
}

}  // namespace

TEST_CASE("the SBI benchmark's SIR: I(t)/N at t = 0, 17, ..., 153 matches an independent integration", "[ode][sbibm]") {
    // The task as data/sbibm/README.md defines it: N = 1e6, (S, I, R)(0) = (N - 1, 1, 0),
    // beta and gamma drawn, prevalence every 17 days. The reference is RK4 with 1/1000
    // day steps (global error ~1e-12 here); sgnn integrates at rtol 1e-8 in blocks,
    // whose global error the epidemic's growth amplifies to about 1e-6 of the value
    // (measured 9.4e-7): 1e-5 is the bound. An output at a wrong time is off by far more.
    SimulatorOptions options;
    options.parameterize_by = "rates";
    options.output = "prevalence";
    options.ode.output_interval = 17.0;
    const auto sir = make_simulator("sir_ode", options);
    REQUIRE(sir->channels() == std::vector<std::string>{"prevalence"});
    const int count = 8, outputs = 10;
    std::vector<double> params;
    // beta, gamma: the benchmark's observation 1 (0.3498, 0.0702 rounded), a fast and
    // a slow epidemic, and prior draws.
    const double pairs[count][2] = {{0.35, 0.07}, {1.2, 0.1},  {0.2, 0.15}, {0.4, 0.125},
                                    {0.6, 0.2},   {0.25, 0.1}, {0.9, 0.3},  {0.5, 0.09}};
    for (const auto& pair : pairs) params.insert(params.end(), {pair[0], pair[1], 1e6, 1.0});
    const BlockResult r = run_block(*sir, params, count, outputs);
    double worst = 0.0;
    for (int j = 0; j < count; ++j) {
        REQUIRE(r.ok[static_cast<std::size_t>(j)]);
        const double beta = pairs[j][0], gamma = pairs[j][1];
        const auto reference = rk4_outputs(
            [&](const std::vector<double>& y, std::vector<double>& f) {
                f[0] = -beta * y[0] * y[1];
                f[1] = beta * y[0] * y[1] - gamma * y[1];
            },
            {1.0 - 1e-6, 1e-6}, 17.0, outputs, 17000);
        for (int t = 0; t < outputs; ++t) {
            const double expected = reference[static_cast<std::size_t>(t)][1];
            const double got = r.series[static_cast<std::size_t>(j) * outputs + static_cast<std::size_t>(t)];
            INFO("beta " << beta << ", gamma " << gamma << ", t = " << 17 * t << ": " << got << " vs " << expected);
            // Relative to the value, with a floor far below one person in a million.
            CHECK(std::fabs(got - expected) <= 1e-5 * std::fabs(expected) + 1e-12);
            worst = std::max(worst, std::fabs(got - expected) / std::max(std::fabs(expected), 1e-6));
        }
    }
    WARN("SBI SIR prevalence vs RK4: worst relative error " << worst);
}

TEST_CASE("the SBI benchmark's Lotka-Volterra: both populations every 2.1 match an independent integration",
          "[ode][sbibm]") {
    SimulatorOptions options;
    options.ode.output_interval = 2.1;
    const auto lv = make_simulator("lotka_volterra", options);
    const int count = 4, outputs = 10;
    // alpha, beta, gamma, delta: near the prior medians (0.88, 0.05, 0.88, 0.05) and around.
    const double rates[count][4] = {
        {0.88, 0.05, 0.88, 0.05}, {1.5, 0.03, 0.6, 0.08}, {0.6, 0.1, 1.2, 0.03}, {1.1, 0.04, 0.9, 0.06}};
    std::vector<double> params;
    for (const auto& a : rates) params.insert(params.end(), {a[0], a[1], a[2], a[3], 30.0, 1.0});
    const BlockResult r = run_block(*lv, params, count, outputs);
    for (int j = 0; j < count; ++j) {
        REQUIRE(r.ok[static_cast<std::size_t>(j)]);
        const double* a = rates[j];
        const auto reference = rk4_outputs(
            [&](const std::vector<double>& y, std::vector<double>& f) {
                f[0] = a[0] * y[0] - a[1] * y[0] * y[1];
                f[1] = -a[2] * y[1] + a[3] * y[0] * y[1];
            },
            {30.0, 1.0}, 2.1, outputs, 21000);
        const double* prey = r.series.data() + static_cast<std::size_t>(j) * 2 * outputs;
        const double* predators = prey + outputs;
        for (int t = 0; t < outputs; ++t) {
            INFO("rates " << j << ", t = " << 2.1 * t);
            // rtol 1e-8 per step; the orbits amplify it, so 1e-5 of the value.
            CHECK(prey[t] == Approx(reference[static_cast<std::size_t>(t)][0]).epsilon(1e-5).margin(1e-9));
            CHECK(predators[t] == Approx(reference[static_cast<std::size_t>(t)][1]).epsilon(1e-5).margin(1e-9));
        }
    }
}
