// Chain-binomial SIR epidemic in daily steps (Reed-Frost form with frequency-dependent
// force of infection). Each day:
//   new infections  ~ Binomial(S, 1 - exp(-beta I / N))
//   new recoveries  ~ Binomial(I, 1 - exp(-gamma))
// so R0 = beta / gamma and 1/gamma is the mean infectious period in days.
#pragma once

#include "sgnn/sim/random.hpp"

#include <cstdint>

namespace sgnn::sim {

struct SirParameters {
    double beta;
    double gamma;
    std::int64_t population;
    std::int64_t initial_infected;
};

// Writes the daily incidence (new infections) of days 1..days into `incidence`.
void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng,
                                 std::int64_t* incidence);

}  // namespace sgnn::sim
