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
#include <string>
#include <utility>
#include <vector>

namespace sgnn::sim {

struct SirParameters {
    double beta;
    double gamma;
    std::int64_t population;
    std::int64_t initial_infected;
};

// The chain-binomial SIR recursion on its own, for validation against its mean field.
void simulate_chain_binomial_sir(const SirParameters& params, int days, SampleStream& rng, std::int64_t* incidence);

// The generation interval: days from a case's infection to the infections it causes,
// in a fully susceptible population (docs/simulators.md derives it).
//   Chain-binomial models with k steps a day (sim.steps_per_day): an infection enters
//   E (or I, without a latent class) at the next step, leaves E after L ~ Geometric(q)
//   steps on {1, 2, ...} and then exerts the same force on each of its J ~
//   Geometric(p) steps in I, so G = (L + J) / k with q = 1 - exp(-sigma / k) and
//   p = 1 - exp(-gamma / k): mean (1/q + 1/p) / k, variance ((1-q)/q^2 + (1-p)/p^2) / k^2.
//   Continuous-time models (Gillespie, tau-leaping, ODE): G = Exp(sigma) + Exp(gamma),
//   mean 1/sigma + 1/gamma, variance 1/sigma^2 + 1/gamma^2.
// latent_period 0: no latent class. steps_per_day 0: continuous time.
struct GenerationInterval {
    double mean = 0.0, sd = 0.0;
};
GenerationInterval generation_interval(double infectious_period, double latent_period, int steps_per_day);

// The periods that give `model` the generation interval of options.generation_interval
// (its mean; and its sd for models with a latent class, the longer period being the
// infectious one): {"infectious_period", value} and {"latent_period", value}. Throws
// ConfigError naming sim.generation_interval when the model cannot have it (with the
// sd range it can have, and the sim.steps_per_day that reaches the sd asked for).
std::vector<std::pair<std::string, double>> periods_for_generation_interval(const std::string& model,
                                                                            const SimulatorOptions& options);

// Perron root of a nonnegative matrix (power iteration).
double spectral_radius(const std::vector<std::vector<double>>& matrix);

// Registers the models above (called by the simulator registry).
void register_epidemic_models(std::map<std::string, SimulatorFactory>& registry);

}  // namespace sgnn::sim
