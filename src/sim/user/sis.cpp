#include "sgnn/sim/user/sis.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sgnn::sim::user {

// Names from the parameter catalog (src/sim/parameters.cpp); simulate() gets their
// values in this order, drawn from the priors prior.R0, prior.infectious_period, ...
std::vector<std::string> SisExample::parameters() const {
    return {"R0", "infectious_period", "population", "initial_infected"};
}

void SisExample::simulate(const double* p, int days, SampleStream& rng, double* incidence) const {
    const double r0 = p[0], period = p[1];
    const std::int64_t n = std::llround(p[2]);
    if (!(period > 0.0)) throw std::invalid_argument("infectious_period must be positive");
    const double gamma = 1.0 / period, beta = r0 * gamma;
    std::int64_t infectious = std::min(n, static_cast<std::int64_t>(std::llround(p[3])));
    std::int64_t susceptible = n - infectious;
    for (int day = 0; day < days; ++day) {
        // All randomness comes from `rng`, so the sample is a function of (seed, index).
        const std::int64_t infected =
            binomial(rng, susceptible, -std::expm1(-beta * static_cast<double>(infectious) / static_cast<double>(n)));
        const std::int64_t recovered = binomial(rng, infectious, -std::expm1(-gamma));
        susceptible += recovered - infected;
        infectious += infected - recovered;
        incidence[day] = static_cast<double>(infected);
    }
}

void SisExample::compute_derived(const double* p, const double*, int, double* out) const {
    out[0] = p[0] / p[1];  // beta = R0 * gamma
    out[1] = 1.0 / p[1];   // gamma
}

}  // namespace sgnn::sim::user
