// Classical baselines: mean models against the simulators they summarize, TAO fits
// against known optima, and the optimizer check of the model-selection note (a fit
// must find a likelihood at least as high as the truth's).
#include "sgnn/analysis/candidates.hpp"
#include "sgnn/analysis/feature_classifier.hpp"
#include "sgnn/analysis/growth_rate_method.hpp"
#include "sgnn/analysis/mean_models.hpp"
#include "sgnn/analysis/tao_fit.hpp"
#include "sgnn/sim/simulator.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace sgnn::analysis;

TEST_CASE("the chain-binomial mean field tracks a large daily SIR and SEIR", "[baseline]") {
    // With N = 1e8 and 1e5 initially infectious, daily counts are 1e4..1e6, so one
    // trajectory's relative noise is about 1e-2 at worst (1 / sqrt(count)) and the
    // mean-field bias is O(1 / I0) = 1e-5; a 5% band is several standard errors wide.
    for (const bool latent : {false, true}) {
        const auto model = sgnn::sim::make_simulator(latent ? "seir" : "sir");
        std::vector<double> p = {2.5, 5.0};
        if (latent) p.push_back(2.0);
        p.push_back(1e8);
        p.push_back(1e5);
        const int days = 60;
        std::vector<double> simulated(days), mean(days);
        sgnn::sim::SampleStream rng(3, sgnn::sim::Purpose::test, latent ? 1 : 0);
        model->simulate(p.data(), days, rng, simulated.data());
        EpidemicMeanParameters m;
        m.r0 = 2.5;
        m.infectious_period = 5.0;
        m.latent_period = latent ? 2.0 : 0.0;
        m.population = 1e8;
        m.initial_infected = 1e5;
        chain_binomial_mean(m, days, mean.data());
        for (int d = 0; d < days; ++d) {
            if (simulated[d] < 1e4) continue;
            CHECK(std::fabs(simulated[d] / mean[d] - 1.0) < 0.05);
        }
    }
}

TEST_CASE("the RK4 ODE mean agrees with the PETSc TS epidemic ODE", "[baseline]") {
    for (const bool latent : {false, true}) {
        const auto model = sgnn::sim::make_simulator(latent ? "seir_ode" : "sir_ode");
        std::vector<double> p = {3.0, 4.0};
        if (latent) p.push_back(3.0);
        p.push_back(1e5);
        p.push_back(20);
        const int days = 100;
        std::vector<double> petsc(days), rk4(days);
        sgnn::sim::SampleStream rng(1, sgnn::sim::Purpose::test, 0);
        model->simulate(p.data(), days, rng, petsc.data());
        EpidemicMeanParameters m;
        m.r0 = 3.0;
        m.infectious_period = 4.0;
        m.latent_period = latent ? 3.0 : 0.0;
        m.initial_infected = 20;
        epidemic_ode_mean(m, days, rk4.data());
        double peak = 0.0;
        for (double v : petsc) peak = std::max(peak, v);
        for (int d = 0; d < days; ++d) CHECK(std::fabs(rk4[d] - petsc[d]) < 1e-5 * peak);
    }
}

TEST_CASE("growth means start at N0 and approach K", "[baseline]") {
    std::vector<double> out(200);
    for (const auto law : {GrowthLaw::logistic, GrowthLaw::gompertz}) {
        growth_mean(law, 0.3, 5000.0, 20.0, 200, out.data());
        CHECK(out[0] == Approx(20.0));
        CHECK(out[199] == Approx(5000.0).epsilon(1e-6));
    }
}

TEST_CASE("TAO finds the minimum of a bounded Rosenbrock function", "[baseline]") {
    // Central differences (no gradient given).
    const Objective rosenbrock{
        [](const double* x) { return 100.0 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1.0 - x[0], 2); }};
    const FitResult free = minimize_from_starts(rosenbrock, {-3, -3}, {3, 3}, {{-1.2, 1.0}, {2.5, -2.0}});
    CHECK(free.x[0] == Approx(1.0).margin(1e-4));
    CHECK(free.x[1] == Approx(1.0).margin(1e-4));
    // With x0 <= 0.5 the constrained minimum lies on that bound.
    const FitResult bounded = minimize_in_box(rosenbrock, {-3, -3}, {0.5, 3}, {-1.2, 1.0});
    CHECK(bounded.x[0] == Approx(0.5).margin(1e-6));
    CHECK(bounded.x[1] == Approx(0.25).margin(1e-4));
}

TEST_CASE("maximum-likelihood fits never end below the truth's likelihood", "[baseline]") {
    // The optimizer check: series drawn from each candidate's own mean and noise
    // model. The maximum of the likelihood is at least its value at the true
    // parameters, so a fit that ends lower has missed the optimum.
    const auto sir = make_candidate("sir"), seir = make_candidate("seir");
    const auto logistic = make_candidate("logistic"), gompertz = make_candidate("gompertz");
    const std::vector<std::vector<double>> truths_epidemic = {{2.0, 5.0, 0.6, 20, 30}, {1.6, 7.0, 0.4, 40, 10}};
    const std::vector<std::vector<double>> truths_seir = {{2.5, 4.0, 2.5, 0.5, 15, 50}, {3.0, 6.0, 1.5, 0.8, 30, 8}};
    const std::vector<std::vector<double>> truths_growth = {{0.3, 3000, 20, 0.1}, {0.15, 8000, 20, 0.2}};
    struct Case {
        const Candidate* truth;
        std::vector<const Candidate*> pair;
        std::vector<std::vector<double>> parameters;
        int days;
    };
    const std::vector<Case> cases = {{sir.get(), {sir.get(), seir.get()}, truths_epidemic, 100},
                                     {seir.get(), {sir.get(), seir.get()}, truths_seir, 100},
                                     {logistic.get(), {logistic.get(), gompertz.get()}, truths_growth, 30},
                                     {gompertz.get(), {logistic.get(), gompertz.get()}, truths_growth, 30}};
    std::uint64_t index = 0;
    for (const auto& c : cases) {
        for (const auto& truth : c.parameters) {
            std::vector<double> y(static_cast<std::size_t>(c.days));
            c.truth->sample(truth.data(), c.days, 7, index, y.data());
            const auto fits = fit_candidates(c.pair, y.data(), c.days, 7, index++);
            const double at_truth = c.truth->log_likelihood(truth.data(), y.data(), c.days);
            const std::size_t own = c.pair[0] == c.truth ? 0 : 1;
            INFO(c.truth->name() << " series " << index << ": fit " << fits[own].log_likelihood << " truth "
                                 << at_truth);
            CHECK(fits[own].log_likelihood >= at_truth - 1e-6 * std::fabs(at_truth));
            CHECK(fits[own].aic == Approx(2.0 * c.truth->size() - 2.0 * fits[own].log_likelihood));
        }
    }
}

TEST_CASE("the quadratic logistic classifier recovers a circular boundary", "[baseline]") {
    // Label 1 inside the unit circle: linear logistic regression cannot separate it, a
    // quadratic one can (error well below the 21.5% of always guessing "outside").
    std::vector<std::array<double, 2>> features;
    std::vector<int> labels;
    sgnn::sim::SampleStream rng(5, sgnn::sim::Purpose::test, 0);
    for (int i = 0; i < 4000; ++i) {
        const double a = 4.0 * rng.uniform() - 2.0, b = 4.0 * rng.uniform() - 2.0;
        features.push_back({a, b});
        labels.push_back(a * a + b * b < 1.0 ? 1 : 0);
    }
    QuadraticLogistic classifier;
    classifier.fit(features, labels);
    int errors = 0;
    for (std::size_t i = 0; i < features.size(); ++i)
        errors += (classifier.probability(features[i]) > 0.5) != labels[i];
    CHECK(errors < 0.03 * features.size());
    CHECK(peak_and_log_total(std::vector<double>{1, 5, 3}.data(), 3) == std::array<double, 2>{2.0, std::log1p(9.0)});
}

TEST_CASE("the growth-rate method inverts the chain-binomial SIR's early growth", "[baseline]") {
    // Exact on the mean field's early phase: with N = 1e12 the susceptibles barely move
    // in 30 days, so the mean incidence grows by e^r a day with e^r = 1 - p + beta.
    for (const double r0 : {1.3, 2.0, 3.5}) {
        EpidemicMeanParameters m;
        m.r0 = r0;
        m.infectious_period = 5.0;
        m.population = 1e12;
        m.initial_infected = 100;
        std::vector<double> mean(30);
        chain_binomial_mean(m, 30, mean.data());
        const double r = exponential_growth_rate(mean.data() + 10, 20);  // past the start-up transient
        CHECK(r == Approx(std::log(std::exp(-0.2) + r0 * 0.2)).margin(1e-4));
        CHECK(chain_binomial_sir_r0(r, 5.0) == Approx(r0).epsilon(1e-3));
    }
    // Poisson regression handles zeros and recovers a known rate from exact data.
    std::vector<double> y(20);
    for (int t = 0; t < 20; ++t) y[t] = 3.0 * std::exp(0.15 * t);
    CHECK(exponential_growth_rate(y.data(), 20) == Approx(0.15).margin(1e-9));
}

TEST_CASE("a fixed parameter stays at its value and is not counted by AIC", "[baseline]") {
    const auto sir = make_candidate("sir");
    sir->fix("infectious_period", 5.5);
    CHECK(sir->free_parameters() == sir->size() - 1);
    std::vector<double> truth = {2.0, 5.5, 0.6, 20, 30}, y(60);
    sir->sample(truth.data(), 60, 3, 0, y.data());
    const auto fit = fit_candidates({sir.get()}, y.data(), 60, 3, 0);
    CHECK(fit[0].natural[1] == Approx(5.5));
    CHECK(fit[0].log_likelihood >= sir->log_likelihood(truth.data(), y.data(), 60) - 1e-6);
    CHECK(fit[0].aic == Approx(2.0 * 4 - 2.0 * fit[0].log_likelihood));
    CHECK_THROWS(sir->fix("latent_period", 1.0));
    // The exponential phase ends at the peak of the weekly moving average.
    std::vector<double> hump(40);
    for (int t = 0; t < 40; ++t) hump[t] = 1000.0 * std::exp(-0.01 * (t - 20) * (t - 20));
    CHECK(exponential_phase_days(hump.data(), 40) == 21);
    CHECK(exponential_phase_days(hump.data(), 15) == 15);
}

TEST_CASE("an onset offset shifts the mean model's window and the fits search it", "[baseline][onset]") {
    // With an onset offset the mean runs from the seeding and the series starts that
    // many days later: at a whole number o it is the plain mean's days o, o+1, ...; in
    // between it is interpolated, so the likelihood is continuous in the offset.
    const auto plain = make_candidate("seir"), shifted = make_candidate("seir", 1e5, 21);
    REQUIRE(shifted->parameter_names().back() == "onset_offset");
    CHECK_FALSE(shifted->fitted_in_logs(shifted->size() - 1));
    CHECK(shifted->fitted_in_logs(0));
    const std::vector<double> base = {2.5, 4.0, 2.5, 0.5, 15, 50};
    std::vector<double> from_seeding(80), window(60), between(60);
    plain->mean(base.data(), 80, from_seeding.data());
    std::vector<double> with_offset = base;
    with_offset.push_back(9.0);
    shifted->mean(with_offset.data(), 60, window.data());
    for (int d = 0; d < 60; ++d) CHECK(window[d] == Approx(from_seeding[d + 9]).epsilon(1e-12));
    with_offset.back() = 9.25;
    shifted->mean(with_offset.data(), 60, between.data());
    for (int d = 0; d < 60; ++d)
        CHECK(between[d] == Approx(0.75 * from_seeding[d + 9] + 0.25 * from_seeding[d + 10]).epsilon(1e-12));
    // The optimizer check on shifted series: every fit reaches the truth's likelihood.
    const auto sir = make_candidate("sir", 1e5, 21);
    const std::vector<std::vector<double>> truths = {{2.5, 4.0, 2.5, 0.5, 15, 50, 0.0},
                                                     {3.0, 6.0, 1.5, 0.8, 30, 8, 13.0}};
    std::uint64_t index = 100;
    for (const auto& truth : truths) {
        std::vector<double> y(100);
        shifted->sample(truth.data(), 100, 7, index, y.data());
        const auto fits = fit_candidates({sir.get(), shifted.get()}, y.data(), 100, 7, index++);
        const double at_truth = shifted->log_likelihood(truth.data(), y.data(), 100);
        INFO("series " << index << ": fit " << fits[1].log_likelihood << " truth " << at_truth << ", offset "
                       << fits[1].natural.back());
        CHECK(fits[1].log_likelihood >= at_truth - 1e-6 * std::fabs(at_truth));
        CHECK(fits[1].aic == Approx(2.0 * 7 - 2.0 * fits[1].log_likelihood));
    }
}
