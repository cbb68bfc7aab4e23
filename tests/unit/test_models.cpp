#include "sgnn/error.hpp"
#include "sgnn/sim/epidemic_models.hpp"
#include "sgnn/sim/simulator.hpp"
#include "sgnn/sim/task.hpp"
#include "sgnn/sim/user/sis.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace sgnn::sim;

namespace {

// Parameter values by name, in the simulator's order; parameters not named take the
// centre of their default prior.
std::vector<double> values(const Simulator& simulator, const std::map<std::string, double>& named) {
    std::vector<double> v;
    for (const auto& name : simulator.parameters()) {
        const auto it = named.find(name);
        const ParameterSpec& spec = parameter_spec(name);
        v.push_back(it != named.end() ? it->second
                                      : ParameterPrior::parse(name, spec.default_prior, spec.domain).centre());
    }
    return v;
}

const std::map<std::string, double> kTypical = {
    {"R0", 2.5},
    {"infectious_period", 5.0},
    {"latent_period", 2.0},
    {"asymptomatic_fraction", 0.4},
    {"relative_infectiousness", 0.5},
    {"immunity_period", 100.0},
    {"population", 20000},
    {"initial_infected", 20},
};

// Solves z = 1 - exp(-R0 z) for the major-outbreak final size by fixed-point iteration.
double final_size(double r0) {
    double z = 0.9;
    for (int i = 0; i < 200; ++i) z = 1.0 - std::exp(-r0 * z);
    return z;
}

}  // namespace

TEST_CASE("every registered simulator makes valid, reproducible series", "[models]") {
    for (const auto& [name, factory] : simulator_registry()) {
        const auto simulator = factory(sgnn::sim::SimulatorOptions{});
        const auto p = values(*simulator, kTypical);
        const std::size_t length = 80 * simulator->channels().size();
        std::vector<double> a(length), b(length);
        SampleStream r1(5, Purpose::test, 17), r2(5, Purpose::test, 17);
        simulator->simulate(p.data(), 80, r1, a.data());
        simulator->simulate(p.data(), 80, r2, b.data());
        INFO(name);
        CHECK(a == b);
        CHECK(std::all_of(a.begin(), a.end(), [](double x) { return x >= 0 && std::isfinite(x); }));
        const bool epidemic = simulator->channels() == std::vector<std::string>{"incidence"};
        // Without reinfection nobody is counted twice.
        if (epidemic && name != "sirs" && name != "sis") {
            CHECK(std::accumulate(a.begin(), a.end(), 0.0) <= 20000);
        }
        CHECK(std::accumulate(a.begin(), a.end(), 0.0) > 20);  // R0 2.5 from 20 cases takes off; growth grows
        for (const auto& parameter : simulator->parameters()) CHECK_NOTHROW(parameter_spec(parameter));
        std::vector<double> derived(simulator->derived().size());
        simulator->compute_derived(p.data(), a.data(), 80, derived.data());
        for (double d : derived) CHECK(std::isfinite(d));
    }
}

TEST_CASE("simulating a block gives every trajectory the bits simulate() gives it", "[models][determinism]") {
    // Blocks mix parameter sets (so regimes and dropouts differ between neighbours).
    for (const auto& [name, factory] : simulator_registry()) {
        SimulatorOptions options;
        options.steps_per_day = 2;
        const auto simulator = factory(options);
        const std::size_t n_params = simulator->parameters().size(), length = 50 * simulator->channels().size();
        const int count = 20;
        std::vector<double> params;
        for (int j = 0; j < count; ++j) {
            std::map<std::string, double> named = kTypical;
            named["R0"] = 0.8 + 0.25 * j;
            named["population"] = j % 3 == 0 ? 200.0 : 20000.0 * (j + 1);
            const auto v = values(*simulator, named);
            params.insert(params.end(), v.begin(), v.end());
        }
        std::vector<SampleStream> block_streams;
        for (int j = 0; j < count; ++j) block_streams.emplace_back(12, Purpose::test, static_cast<std::uint64_t>(j));
        std::vector<double> block(count * length), alone(length);
        std::vector<char> ok(count);
        simulator->simulate_batch(params.data(), count, 50, block_streams.data(), block.data(), ok.data());
        INFO(name);
        for (int j = 0; j < count; ++j) {
            SampleStream rng(12, Purpose::test, static_cast<std::uint64_t>(j));
            REQUIRE(ok[static_cast<std::size_t>(j)]);
            simulator->simulate(params.data() + j * n_params, 50, rng, alone.data());
            const bool ode = simulator->block_size() > 32;  // adaptive steps see the block: equal within tolerance
            for (std::size_t d = 0; d < length; ++d) {
                if (ode) {
                    CHECK(block[j * length + d] == Approx(alone[d]).epsilon(1e-6).margin(1e-6));
                } else {
                    CHECK(block[j * length + d] == alone[d]);
                }
            }
        }
    }
}

TEST_CASE("derived quantities follow the model's definitions", "[models]") {
    const auto seir = make_simulator("seir");
    const auto p = values(*seir, kTypical);
    std::vector<double> incidence(60, 0);
    incidence[9] = 100;
    incidence[3] = 40;
    std::vector<double> d(seir->derived().size());
    seir->compute_derived(p.data(), incidence.data(), 60, d.data());
    const double gamma = 0.2, sigma = 0.5, beta = 2.5 * gamma;
    CHECK(d[0] == Approx(beta));
    CHECK(d[1] == Approx(gamma));
    const double r = d[2];
    CHECK((1 + r / sigma) * (1 + r / gamma) == Approx(2.5));  // Euler-Lotka for exponential periods
    CHECK(d[3] == Approx(std::log(2.0) / r));
    CHECK(d[4] == Approx(140.0 / 20000.0));
    CHECK(d[5] == 10.0);  // peak on day 10 (1-based)
    // The renewal reproduction number of the daily model: R0 (gamma/k) / (1 - e^(-gamma/k)),
    // the infections one case causes over its geometric stay in I (the renewal test
    // "the chain-binomial generation interval ..." checks the same force by simulation).
    REQUIRE(seir->derived().back() == "reproduction_number");
    CHECK(d[6] == Approx(2.5 * gamma / -std::expm1(-gamma)).epsilon(1e-12));
    SimulatorOptions two_steps;
    two_steps.steps_per_day = 2;
    std::vector<double> d2(d.size());
    make_simulator("seir", two_steps)->compute_derived(p.data(), incidence.data(), 60, d2.data());
    CHECK(d2[6] == Approx(2.5 * (gamma / 2) / -std::expm1(-gamma / 2)).epsilon(1e-12));
    for (const char* continuous : {"seir_gillespie", "seir_tauleap"}) {
        std::vector<double> c(d.size());
        make_simulator(continuous)->compute_derived(p.data(), incidence.data(), 60, c.data());
        CHECK(c[6] == Approx(2.5));
    }
    // SEAIR: R0 counts asymptomatic transmission at its reduced rate.
    const auto seair = make_simulator("seair");
    const auto q = values(*seair, kTypical);
    std::vector<double> e(seair->derived().size());
    seair->compute_derived(q.data(), incidence.data(), 60, e.data());
    CHECK(e[0] / e[1] * (1 - 0.4 + 0.4 * 0.5) == Approx(2.5));
}

TEST_CASE("Gillespie SIR: major outbreaks reach the final-size equation", "[models][gillespie]") {
    // z = 1 - exp(-R0 z). N = 5000, one initial case, 400 runs; runs with fewer than 10%
    // infected are minor outbreaks. Tolerance: 5 standard errors of the mean, plus the
    // O(1/sqrt(N)) finite-population bias (<1% here).
    const auto ssa = make_simulator("sir_gillespie");
    const double r0 = 2.0;
    const std::map<std::string, double> named = {
        {"R0", r0}, {"infectious_period", 4.0}, {"population", 5000}, {"initial_infected", 1}};
    const auto p = values(*ssa, named);
    std::vector<double> incidence(400);
    std::vector<double> majors;
    for (int run = 0; run < 400; ++run) {
        SampleStream rng(21, Purpose::test, static_cast<std::uint64_t>(run));
        ssa->simulate(p.data(), 400, rng, incidence.data());
        const double z = (1.0 + std::accumulate(incidence.begin(), incidence.end(), 0.0)) / 5000.0;
        if (z > 0.1) majors.push_back(z);
    }
    const double n = static_cast<double>(majors.size());
    const double mean = std::accumulate(majors.begin(), majors.end(), 0.0) / n;
    double var = 0;
    for (double z : majors) var += (z - mean) * (z - mean) / (n - 1);
    const double se = std::sqrt(var / n);
    INFO("major outbreaks " << n << ", mean final size " << mean << " (theory " << final_size(r0) << ")");
    // Probability of a major outbreak from one case is 1 - 1/R0 = 0.5: 200 +- 10 of 400.
    CHECK(std::fabs(n - 200.0) < 5 * 10.0);
    CHECK(std::fabs(mean - final_size(r0)) < 5 * se + 0.01);
}

TEST_CASE("chain-binomial SEIR mean follows its mean-field recursion", "[models]") {
    const auto seir = make_simulator("seir");
    const std::map<std::string, double> named = {{"R0", 2.0},
                                                 {"infectious_period", 4.0},
                                                 {"latent_period", 2.0},
                                                 {"population", 1e6},
                                                 {"initial_infected", 500}};
    const auto p = values(*seir, named);
    const int days = 50, runs = 300;
    std::vector<double> mean(days, 0.0), sq(days, 0.0);
    std::vector<double> incidence(days);
    for (int r = 0; r < runs; ++r) {
        SampleStream rng(4, Purpose::test, static_cast<std::uint64_t>(r));
        seir->simulate(p.data(), days, rng, incidence.data());
        for (int d = 0; d < days; ++d) {
            mean[d] += static_cast<double>(incidence[d]) / runs;
            sq[d] += static_cast<double>(incidence[d]) * static_cast<double>(incidence[d]) / runs;
        }
    }
    double s = 1e6 - 500, e = 0, i = 500;
    const double beta = 0.5, gamma = 0.25, sigma = 0.5;
    for (int d = 0; d < days; ++d) {
        const double exposed = s * -std::expm1(-beta * i / 1e6);
        const double onset = e * -std::expm1(-sigma);
        const double recovered = i * -std::expm1(-gamma);
        s -= exposed;
        e += exposed - onset;
        i += onset - recovered;
        const double se = std::sqrt(std::max(1.0, sq[d] - mean[d] * mean[d]) / runs);
        INFO("day " << d);
        CHECK(std::fabs(mean[d] - onset) < 5 * se + 0.01 * onset);
    }
}

TEST_CASE("example user model (SIS) settles at its endemic equilibrium", "[models][user]") {
    // Mean field of the daily SIS: infections S(1 - e^{-beta I/N}) balance recoveries
    // I(1 - e^{-gamma}). 200 runs of 300 days, N = 1e5; tolerance 5 SE + 1%.
    const user::SisExample sis;
    const double r0 = 2.0, period = 5.0, n = 1e5;
    const std::vector<double> p = {r0, period, n, 100};
    std::vector<double> incidence(300);
    double mean = 0, sq = 0;
    const int runs = 200;
    for (int run = 0; run < runs; ++run) {
        SampleStream rng(8, Purpose::test, static_cast<std::uint64_t>(run));
        sis.simulate(p.data(), 300, rng, incidence.data());
        mean += static_cast<double>(incidence[299]) / runs;
        sq += static_cast<double>(incidence[299]) * static_cast<double>(incidence[299]) / runs;
    }
    double i = 100;
    for (int d = 0; d < 2000; ++d) {
        const double infected = (n - i) * -std::expm1(-(r0 / period) * i / n);
        i += infected - i * -std::expm1(-1.0 / period);
    }
    const double equilibrium = i * -std::expm1(-1.0 / period);
    const double se = std::sqrt((sq - mean * mean) / runs);
    INFO("mean incidence " << mean << ", equilibrium " << equilibrium);
    CHECK(std::fabs(mean - equilibrium) < 5 * se + 0.01 * equilibrium);
}

TEST_CASE("age-structured SIR: R0 is the spectral radius of its next-generation matrix", "[models][age]") {
    // Two groups: C = [[a, b], [c, d]], shares s1, s2. NGM K = beta/gamma * C[g][h] s_g/s_h,
    // whose eigenvalues are those of beta/gamma * C (a similarity transform), so
    // rho(K) = beta/gamma * ((a + d)/2 + sqrt(((a - d)/2)^2 + b c)).
    SimulatorOptions options;
    const double a = 4.0, b = 1.0, c = 2.0, d = 1.5;
    options.contact_matrix = {{a, b}, {c, d}};
    options.group_shares = {0.3, 0.7};
    const auto model = make_simulator("age_sir", options);
    const double r0 = 2.2, period = 4.0;
    const std::vector<double> p = {r0, period, 1e5, 20};
    std::vector<double> incidence(60);
    SampleStream rng(1, Purpose::test, 0);
    model->simulate(p.data(), 60, rng, incidence.data());
    std::vector<double> derived(model->derived().size());
    model->compute_derived(p.data(), incidence.data(), 60, derived.data());
    const double beta = derived[0], gamma = derived[1];
    const double closed_form = (a + d) / 2 + std::sqrt((a - d) * (a - d) / 4 + b * c);
    CHECK(beta / gamma * closed_form == Approx(r0).epsilon(1e-12));
    CHECK(spectral_radius({{a, b * 0.3 / 0.7}, {c * 0.7 / 0.3, d}}) == Approx(closed_form).epsilon(1e-12));
    CHECK(std::accumulate(incidence.begin(), incidence.end(), 0.0) > 1000);  // R0 2.2 takes off
}

TEST_CASE("bad contact structures are errors naming the option", "[models][age]") {
    using Catch::Matchers::Contains;
    SimulatorOptions empty;
    empty.contact_matrix.clear();
    CHECK_THROWS_WITH(make_simulator("age_sir", empty), Contains("sim.contact_matrix") && Contains("empty"));
    SimulatorOptions ragged;
    ragged.contact_matrix = {{1, 2}, {3}};
    ragged.group_shares = {0.5, 0.5};
    CHECK_THROWS_WITH(make_simulator("age_sir", ragged), Contains("square"));
    SimulatorOptions negative;
    negative.contact_matrix = {{1, -2}, {3, 1}};
    negative.group_shares = {0.5, 0.5};
    CHECK_THROWS_WITH(make_simulator("age_sir", negative), Contains(">= 0"));
    SimulatorOptions shares;
    shares.group_shares = {0.5, 0.5};
    CHECK_THROWS_WITH(make_simulator("age_sir", shares), Contains("sim.group_shares"));
}

TEST_CASE("unknown simulators and targets are configuration errors", "[models]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(make_simulator("sier"), Contains("sim.model") && Contains("seir"));
    TaskConfig config;
    config.model = "seir";
    config.targets = {"log_latent_period", "growth_rate", "doubling_time"};
    CHECK_NOTHROW(make_task(config));
    config.targets = {"immunity_period"};
    CHECK_THROWS_WITH(make_task(config), Contains("immunity_period") && Contains("latent_period"));
}

TEST_CASE("samples that fail are dropped, counted and never packed", "[task]") {
    // A task that fails two times in three: a whole block by throwing, or a sample by
    // a NaN target.
    class Flaky final : public Task {
    public:
        Flaky() {
            layout_.n_inputs = 2;
            layout_.target_names = {"x"};
        }
        const SampleLayout& layout() const override { return layout_; }
        int block_size() const override { return 1; }
        void generate_block(SampleStream* rngs, int, double, const SampleRows& out, char* valid) const override {
            const double u = rngs[0].uniform();
            out.inputs[0] = out.inputs[1] = static_cast<float>(u);
            const auto bucket = static_cast<int>(u * 3);
            if (bucket == 0) throw std::invalid_argument("bad draw");
            out.targets[0] = bucket == 1 ? std::nanf("") : 1.0f;
            out.labels[0] = 0.0f;
            valid[0] = std::isfinite(out.targets[0]);
        }
        std::string describe_sample(SampleStream& rng, double) const override {
            return "flaky with u = " + std::to_string(rng.uniform());
        }
        const std::vector<std::string>& parameter_names() const override { return names_; }
        void draw_parameters(SampleStream& rng, double, double* out) const override { out[0] = rng.uniform(); }
        bool simulate_from(const double*, SampleStream&, float*) const override { return false; }

    private:
        SampleLayout layout_;
        std::vector<std::string> names_{"u"};
    };
    const Flaky task;
    std::vector<std::uint64_t> indices(300);
    std::vector<float> inputs(600), targets(300), labels(300);
    const auto result = generate_samples(task, 1, Purpose::test, 0, 300, 1.0,
                                         {indices.data(), inputs.data(), targets.data(), labels.data(), 300});
    CHECK(result.valid + result.dropped == 300);
    // About a third valid: binomial(300, 1/3) has sd 8.2.
    CHECK(std::fabs(result.valid - 100.0) < 5 * 8.2);
    for (int k = 0; k < result.valid; ++k) {
        CHECK(targets[static_cast<std::size_t>(k)] == 1.0f);
        if (k > 0) CHECK(indices[static_cast<std::size_t>(k)] > indices[static_cast<std::size_t>(k - 1)]);
    }
    // The first dropped index is the first one missing from the packed indices, and its
    // description re-draws the value that made it fail.
    std::uint64_t first_missing = 0;
    while (first_missing < static_cast<std::uint64_t>(result.valid) && indices[first_missing] == first_missing) {
        ++first_missing;
    }
    CHECK(result.first_dropped == first_missing);
    SampleStream again(1, Purpose::test, result.first_dropped);
    const double u = SampleStream(1, Purpose::test, result.first_dropped).uniform();
    CHECK(u < 2.0 / 3.0);
    CHECK(task.describe_sample(again, 1.0) == "flaky with u = " + std::to_string(u));
}

TEST_CASE("parameterized by rates, a model draws beta and gamma and derives R0 and the infectious period", "[models]") {
    using Catch::Matchers::Contains;
    SimulatorOptions by_rates;
    by_rates.parameterize_by = "rates";
    const auto seir = make_simulator("seir", by_rates);
    CHECK(seir->parameters() ==
          std::vector<std::string>{"beta", "gamma", "latent_period", "population", "initial_infected"});
    const std::vector<double> p{0.6, 0.25, 2.0, 20000.0, 20.0};
    std::vector<double> incidence(60, 0);
    incidence[9] = 100;
    std::vector<double> d(seir->derived().size());
    seir->compute_derived(p.data(), incidence.data(), 60, d.data());
    CHECK(seir->derived()[0] == "R0");
    CHECK(d[0] == Approx(0.6 / 0.25));
    CHECK(d[1] == Approx(4.0));  // infectious period 1 / gamma
    const double r = d[2], sigma = 0.5, gamma = 0.25;
    CHECK((1 + r / sigma) * (1 + r / gamma) == Approx(2.4));

    // The same epidemic as the R0 form with R0 = beta / gamma, period 1 / gamma.
    SimulatorOptions ode_by_rates = by_rates;
    ode_by_rates.ode.rtol = 1e-10;
    SimulatorOptions ode_by_r0;
    ode_by_r0.ode.rtol = 1e-10;
    const auto a = make_simulator("sir_ode", ode_by_rates), b = make_simulator("sir_ode", ode_by_r0);
    const std::vector<double> rates{0.6, 0.25, 1e5, 10.0}, r0{2.4, 4.0, 1e5, 10.0};
    std::vector<double> sa(80), sb(80);
    SampleStream rng(1, Purpose::test, 0);
    a->simulate(rates.data(), 80, rng, sa.data());
    b->simulate(r0.data(), 80, rng, sb.data());
    for (int t = 0; t < 80; ++t)
        CHECK(sa[static_cast<std::size_t>(t)] == Approx(sb[static_cast<std::size_t>(t)]).epsilon(1e-7));

    // age_sir has the R0 form only; prevalence is the ODE models' alone.
    CHECK_THROWS_WITH(make_simulator("age_sir", by_rates), Contains("sim.parameterize_by = rates"));
    SimulatorOptions prevalence;
    prevalence.output = "prevalence";
    CHECK_THROWS_WITH(make_simulator("sir", prevalence), Contains("sim.output = prevalence"));
}

namespace {

// P(G = g steps), g = 0..n-1, of the daily chain-binomial generation interval as
// docs/simulators.md derives it: L ~ Geometric(q) steps in E (none without a latent
// class), then infections on each of J ~ Geometric(p) steps in I with equal force.
std::vector<double> generation_pmf(double p, double q, bool latent, int n) {
    std::vector<double> pmf(static_cast<std::size_t>(n), 0.0);
    for (int j = 1; j < n; ++j) {
        const double in_infectious = p * std::pow(1.0 - p, j - 1);  // P(J = j)
        if (!latent) {
            pmf[static_cast<std::size_t>(j)] += in_infectious;
            continue;
        }
        for (int l = 1; l + j < n; ++l)
            pmf[static_cast<std::size_t>(l + j)] += q * std::pow(1.0 - q, l - 1) * in_infectious;
    }
    return pmf;
}

}  // namespace

TEST_CASE("the chain-binomial generation interval: derived, and checked by simulation", "[models][generation]") {
    // In a large susceptible population the mean infections of step s follow the
    // renewal equation x_s = (beta/k) [I0 P(seed still infectious) + sum_g c(g) x_{s-g}],
    // where c(g) (1 - p) ... is the expected force at lag g: the generation interval's
    // pmf times the expected number of infectious steps 1/p. The simulated mean
    // incidence must follow it (5 standard errors, plus 0.3% for the susceptibles used
    // up), which checks the derived interval; its mean and sd are generation_interval's.
    for (const bool latent : {false, true}) {
        for (const int k : {1, 2}) {
            const double r0 = 2.0, infectious = 4.0, latent_period = 2.0, n = 1e9, seeds = 1000;
            const double beta = r0 / infectious / k, p = -std::expm1(-1.0 / (infectious * k)),
                         q = -std::expm1(-1.0 / (latent_period * k));
            const int days = 20, steps = days * k;
            // The predicted mean infections per step, then what each day reports.
            const std::vector<double> w = generation_pmf(p, q, latent, steps + 1);
            std::vector<double> infections(static_cast<std::size_t>(steps), 0.0), reported(days, 0.0);
            for (int s = 0; s < steps; ++s) {
                double force = seeds * std::pow(1.0 - p, s);
                for (int g = 1; g <= s; ++g) force += w[static_cast<std::size_t>(g)] / p * infections[s - g];
                infections[static_cast<std::size_t>(s)] = beta * force;
            }
            for (int s = 0; s < steps; ++s) {
                // SIR reports infections; SEIR reports onsets, an infection's L steps later.
                if (!latent) {
                    reported[s / k] += infections[static_cast<std::size_t>(s)];
                    continue;
                }
                for (int l = 1; s + l < steps; ++l)
                    reported[(s + l) / k] += infections[static_cast<std::size_t>(s)] * q * std::pow(1.0 - q, l - 1);
            }
            // Its mean and sd are generation_interval's, in days.
            double mean = 0.0, square = 0.0, mass = 0.0;
            const std::vector<double> long_w = generation_pmf(p, q, latent, 400 * k);
            for (std::size_t g = 0; g < long_w.size(); ++g) {
                mass += long_w[g];
                mean += long_w[g] * static_cast<double>(g) / k;
                square += long_w[g] * static_cast<double>(g * g) / (k * k);
            }
            const GenerationInterval interval = generation_interval(infectious, latent ? latent_period : 0.0, k);
            INFO((latent ? "seir" : "sir") << " with " << k << " steps a day");
            CHECK(mass == Approx(1.0).margin(1e-9));
            CHECK(interval.mean == Approx(mean).epsilon(1e-9));
            CHECK(interval.sd == Approx(std::sqrt(square - mean * mean)).epsilon(1e-9));

            SimulatorOptions options;
            options.steps_per_day = k;
            const auto model = make_simulator(latent ? "seir" : "sir", options);
            std::vector<double> params = {r0, infectious};
            if (latent) params.push_back(latent_period);
            params.push_back(n);
            params.push_back(seeds);
            const int runs = 200;
            std::vector<double> sum(days, 0.0), sum_sq(days, 0.0), series(days);
            for (int run = 0; run < runs; ++run) {
                SampleStream rng(17, Purpose::test, static_cast<std::uint64_t>(run + 1000 * k + (latent ? 500 : 0)));
                model->simulate(params.data(), days, rng, series.data());
                for (int d = 0; d < days; ++d) {
                    sum[d] += series[d];
                    sum_sq[d] += series[d] * series[d];
                }
            }
            for (int d = 1; d < days; ++d) {
                const double m = sum[d] / runs, se = std::sqrt(std::max(1.0, sum_sq[d] / runs - m * m) / runs);
                INFO("day " << d << ": simulated " << m << ", renewal equation " << reported[d]);
                CHECK(std::fabs(m - reported[d]) < 5.0 * se + 0.003 * reported[d]);
            }
        }
    }
}

TEST_CASE("a generation interval sets the periods that give it, or says what it cannot be", "[models][generation]") {
    using Catch::Matchers::Contains;
    SimulatorOptions options;
    options.generation_interval = {2.6, 1.5};
    options.steps_per_day = 2;
    for (const char* model : {"seir", "seair", "seir_gillespie", "seir_ode"}) {
        // Continuous-time SEIR cannot be this narrow (sd >= mean / sqrt 2 = 1.84).
        if (std::string(model) != "seir" && std::string(model) != "seair") {
            options.generation_interval = {4.0, 3.0};
        }
        const auto periods = periods_for_generation_interval(model, options);
        REQUIRE(periods.size() == 2);
        const bool daily = std::string(model) == "seir" || std::string(model) == "seair";
        const GenerationInterval g = generation_interval(periods[0].second, periods[1].second, daily ? 2 : 0);
        INFO(model);
        CHECK(g.mean == Approx(options.generation_interval[0]).epsilon(1e-9));
        CHECK(g.sd == Approx(options.generation_interval[1]).epsilon(1e-9));
        CHECK(periods[0].second >= periods[1].second);  // the longer stage is infectious
        options.generation_interval = {2.6, 1.5};
    }
    options.steps_per_day = 1;
    for (const char* model : {"sir", "sirs", "age_sir", "sir_tauleap"}) {
        const auto periods = periods_for_generation_interval(model, options);
        REQUIRE(periods.size() == 1);
        CHECK(generation_interval(periods[0].second, 0.0, std::string(model) == "sir_tauleap" ? 0 : 1).mean ==
              Approx(2.6).epsilon(1e-9));
    }
    // A daily SEIR with mean 2.6 has sd 0.88-0.98; two steps a day reach 1.5.
    CHECK_THROWS_WITH(periods_for_generation_interval("seir", options),
                      Contains("sd from 0.8") && Contains("sim.steps_per_day = 2 reaches it"));
    options.generation_interval = {2.6};
    CHECK_THROWS_WITH(periods_for_generation_interval("seir", options),
                      Contains("give the generation interval's mean and sd"));
    options.generation_interval = {0.5};
    CHECK_THROWS_WITH(periods_for_generation_interval("sir", options), Contains("below the shortest"));
    options.generation_interval = {5.0};
    CHECK_THROWS_WITH(periods_for_generation_interval("logistic", options), Contains("no infectious period"));
    // In a task, the periods' priors become those fixed values.
    TaskConfig config;
    config.model = "sir";
    config.targets = {"R0"};
    config.options.generation_interval = {5.0};
    const auto task = make_task(config);
    std::vector<double> drawn(task->parameter_names().size());
    SampleStream rng(1, Purpose::test, 0);
    task->draw_parameters(rng, 1.0, drawn.data());
    CHECK(generation_interval(drawn[1], 0.0, 1).mean == Approx(5.0).epsilon(1e-12));
}
