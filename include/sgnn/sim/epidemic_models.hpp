// Compartmental epidemic models. Every one reports daily incidence (new entries into
// the reportable infectious class) and offers the same derived quantities; the ODE
// models can report prevalence I(t)/N instead (sim.output).
//
// Chain-binomial (daily steps; each transition is a binomial draw with probability
// 1 - exp(-rate)):
//   sir    S -> I -> R
//   seir   S -> E -> I -> R
//   seair  S -> E -> {A (asymptomatic, never reported), I} -> R; A infects at a reduced rate
//   sirs   S -> I -> R -> S (waning immunity)
//   age_sir  SIR in groups mixing by a contact matrix (sim.contact_matrix, sim.group_shares)
// Exact continuous-time (Gillespie SSA) and tau-leaping (Poisson steps of 1/4 day)
// versions of SIR and SEIR: sir_gillespie, seir_gillespie, sir_tauleap, seir_tauleap.
//
// Force of infection beta * (infectious) / N; R0 = beta / gamma (seair:
// beta / gamma * (1 - f + f * relative_infectiousness)). The first two parameters are
// R0 and the infectious period, or the growth rate and the infectious period, or beta
// and gamma themselves (sim.parameterize_by).
#pragma once

#include "sgnn/sim/simulator.hpp"

#include <cstdint>

namespace sgnn::sim {

struct SirParameters {
    double beta;
    double gamma;
    std::int64_t population;
    std::int64_t initial_infected;
};

// The chain-binomial SIR recursion on its own, for validation against its mean field.
void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng, std::int64_t* incidence);

// Perron root of a nonnegative matrix (power iteration).
double spectral_radius(const std::vector<std::vector<double>>& matrix);

// Registers the models above (called by the simulator registry).
void register_epidemic_models(std::map<std::string, SimulatorFactory>& registry);

}  // namespace sgnn::sim
