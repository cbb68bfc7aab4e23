#include "sgnn/sim/sir.hpp"

#include <cmath>

namespace sgnn::sim {

void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng,
                                 std::int64_t* incidence) {
    const double n = static_cast<double>(params.population);
    const double recovery_probability = -std::expm1(-params.gamma);
    std::int64_t susceptible = params.population - params.initial_infected;
    std::int64_t infectious = params.initial_infected;
    for (int day = 0; day < days; ++day) {
        const double infection_probability =
            -std::expm1(-params.beta * static_cast<double>(infectious) / n);
        const std::int64_t infected = binomial(rng, susceptible, infection_probability);
        const std::int64_t recovered = binomial(rng, infectious, recovery_probability);
        susceptible -= infected;
        infectious += infected - recovered;
        incidence[day] = infected;
    }
}

}  // namespace sgnn::sim
