#include "sgnn/sim/parameters.hpp"

#include <limits>
#include <stdexcept>

namespace sgnn::sim {

const std::vector<ParameterSpec>& parameter_catalog() {
    static const std::vector<ParameterSpec> catalog = {
        {"R0", "loguniform(1.5, 5)", {0.0, 100.0, false}, "basic reproduction number"},
        {"growth_rate",
         "uniform(0.05, 0.25)",
         {0.0, 10.0, false},
         "early exponential growth rate r of an epidemic, per day (with sim.parameterize_by = growth_rate)"},
        {"beta",
         "loguniform(0.1, 2)",
         {0.0, 100.0, false},
         "transmission rate beta, per day: infections caused per infectious individual per day in a fully "
         "susceptible population (with sim.parameterize_by = rates)"},
        {"gamma",
         "loguniform(0.1, 0.35)",
         {0.0, 100.0, false},
         "recovery rate gamma = 1 / infectious period, per day (with sim.parameterize_by = rates)"},
        {"infectious_period", "uniform(3, 8)", {0.0, 1000.0, false}, "mean infectious period 1/gamma, days"},
        {"latent_period", "uniform(1, 4)", {0.0, 1000.0, false}, "mean latent (exposed) period 1/sigma, days"},
        {"asymptomatic_fraction",
         "uniform(0.2, 0.6)",
         {0.0, 1.0, true},
         "share of infections that stay asymptomatic (never reported)"},
        {"relative_infectiousness",
         "uniform(0.3, 0.8)",
         {0.0, 10.0, true},
         "infectiousness of asymptomatic relative to symptomatic cases"},
        {"immunity_period", "uniform(60, 365)", {0.0, 1e6, false}, "mean duration of immunity 1/omega, days"},
        {"population", "loguniform(1e4, 1e6)", {1.0, 1e10, true}, "population size N (rounded to an integer)"},
        {"initial_infected",
         "uniform_int(10, 50)",
         {1.0, 1e10, true, true},
         "infectious individuals at the seeding, day 0 of the simulation (capped at N); the observed window starts "
         "there unless sim.onset_offset = on"},
        {"onset_offset",
         "uniform_int(0, 21)",
         {0.0, 3650.0, true},
         "days from the seeding of an epidemic to the first observed day (entries, for outputs "
         "ode.output_interval apart; rounded to whole entries): the simulation runs this long before the observed "
         "window of sim.days starts"},
        {"reporting_rate", "uniform(0.3, 0.9)", {0.0, 1.0, false}, "probability that a case is reported"},
        {"dispersion",
         "loguniform(5, 100)",
         {0.0, 1e9, false},
         "negative-binomial dispersion k of reported counts (variance m + m^2/k)"},
        {"delay_mean", "uniform(2, 6)", {0.0, 60.0, false}, "mean reporting delay, days (gamma distributed)"},
        {"delay_sd", "uniform(1, 3)", {0.0, 60.0, false}, "standard deviation of the reporting delay, days"},
        {"weekend_factor",
         "uniform(0.3, 0.9)",
         {0.0, 1.0, true},
         "share of weekend cases reported on the day; the rest come on Monday"},
        {"first_weekday",
         "uniform_int(0, 6)",
         {0.0, 6.0, true, true},
         "weekday of a series' first day for the weekend step, 0 = Monday ... 6 = Sunday: drawn, a network learns "
         "to read weekly patterns that start on any day (sgnn predict's predictive check takes it from the dates)"},
        {"missing_rate", "uniform(0, 0.1)", {0.0, 1.0, true}, "probability that a day's (or week's) count is missing"},
        {"observed_days",
         "uniform_int(14, 60)",
         {1.0, 3650.0, true, true},
         "entries of a series that are observed (the truncate step; weeks after weekly): the rest of the sim.days "
         "are missing, so that one network reads series of any length the prior allows"},
        {"noise_sd",
         "uniform(0.5, 5)",
         {0.0, 1e12, true},
         "standard deviation of additive Gaussian measurement noise, in the units of the series"},
        {"noise_sdlog",
         "uniform(0.05, 0.3)",
         {0.0, 10.0, true},
         "standard deviation of log-normal measurement noise, on the log scale"},
        {"survey_size",
         "fixed(1000)",
         {1.0, 1e9, true, true},
         "individuals tested per survey: the survey step observes Binomial(survey_size, p) of a prevalence p"},
        {"clamp_min", "fixed(0)", {-1e300, 1e300, true}, "lower bound of the clamp step"},
        {"clamp_max", "fixed(1e300)", {-1e300, 1e300, true}, "upper bound of the clamp step"},
        {"intrinsic_growth_rate",
         "loguniform(0.05, 0.5)",
         {0.0, 100.0, false},
         "per-capita growth rate r at low density, per day"},
        {"carrying_capacity", "loguniform(1e3, 1e5)", {0.0, 1e15, false}, "carrying capacity K"},
        {"initial_size", "loguniform(10, 100)", {0.0, 1e15, false}, "population size on day 0"},
        {"richards_shape",
         "loguniform(0.25, 4)",
         {0.0, 100.0, false},
         "Richards shape v: 1 is logistic growth, v -> 0 approaches Gompertz growth"},
        {"prey_growth_rate", "uniform(0.5, 1.5)", {0.0, 100.0, false}, "prey growth rate a without predators, per day"},
        {"predation_rate", "uniform(0.02, 0.08)", {0.0, 100.0, false}, "prey eaten per prey and predator per day, b"},
        {"predator_death_rate",
         "uniform(0.5, 1.5)",
         {0.0, 100.0, false},
         "predator death rate c without prey, per day"},
        {"predator_conversion",
         "uniform(0.01, 0.04)",
         {0.0, 100.0, false},
         "predators gained per prey and predator per day, d"},
        {"initial_prey", "uniform(20, 60)", {0.0, 1e15, false}, "prey on day 0"},
        {"initial_predators", "uniform(5, 20)", {0.0, 1e15, false}, "predators on day 0"},
    };
    return catalog;
}

const ParameterSpec& parameter_spec(const std::string& name) {
    for (const auto& spec : parameter_catalog()) {
        if (spec.name == name) return spec;
    }
    throw std::logic_error("parameter '" + name + "' is not in the parameter catalog (src/sim/parameters.cpp)");
}

ParameterDomain parameter_domain(const std::string& name) {
    for (const auto& spec : parameter_catalog()) {
        if (spec.name == name) return spec.domain;
    }
    return {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
}

}  // namespace sgnn::sim
