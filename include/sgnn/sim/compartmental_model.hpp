// A model file (sim/model_file.hpp) run as a Simulator, by the method sim.method
// names: chain_binomial, tau_leap (Poisson steps of 1/(4k) day, clipped to the
// compartments), gillespie (the exact SSA) or ode (the mean-field equations, PETSc TS
// through sim/ode_solver, with the ode.* settings). docs/models.md states each method's
// semantics; in short, for the chain-binomial method with k steps a day
// (sim.steps_per_day), every step, from the state at its start:
//   - a compartment X with outflows of rates r_1..r_m (individuals per day) loses
//     n ~ Binomial(X, 1 - exp(-h/k)), h = (r_1 + ... + r_m) / X its hazard per
//     individual; n is split among the outflows as competing risks, by conditional
//     binomials in the file's order (the last takes the rest);
//   - a source adds Poisson(r/k);
//   - then every flow is applied at once.
// A rate written as a product with its FROM compartment as a factor (beta * S * I / N)
// is evaluated per individual without that factor (beta * I / N): the arithmetic of
// the built-in models, so that models/seir.model reproduces seir's bits at k = 1. A
// rate of parameters alone is evaluated once per trajectory.
//
// A trajectory whose rate turns negative or non-finite, or whose initial state is
// not a whole, nonnegative number of individuals, is dropped (the sample is counted
// as dropped, as for the built-in models).
//
// A file that names no R0 and has infections gets R0 as a last derived quantity, from
// the next-generation matrix at the disease-free state (docs/models.md, section 4).
#pragma once

#include "sgnn/sim/model_file.hpp"
#include "sgnn/sim/simulator.hpp"

#include <memory>

namespace sgnn::sim {

std::unique_ptr<Simulator> make_compartmental_model(const ModelDescription& model, const SimulatorOptions& options);

// The per-individual form of `rate` for a transition out of `from`: the rate with the
// factor `from` taken out when it is a product (or quotient) chain in which `from`
// multiplies; empty when it is not (then the rate is divided by the compartment).
std::string per_individual_rate(const std::string& rate, const std::string& from);

}  // namespace sgnn::sim
