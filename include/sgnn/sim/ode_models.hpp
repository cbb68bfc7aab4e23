// Deterministic ODE models, integrated with PETSc TS (sim/ode_solver.hpp), a block of
// trajectories at a time. Each reports its state at t = k * ode.output_interval, k = 0,
// 1, ..., days - 1 (daily by default); the observation model adds the noise (gaussian,
// lognormal, or the count steps).
//
//   logistic        dN/dt = r N (1 - N/K)
//   gompertz        dN/dt = r N log(K/N)
//   richards        dN/dt = r N (1 - (N/K)^v)         (v = 1 is logistic)
//   lotka_volterra  dx/dt = a x - b x y,  dy/dt = d x y - c y   (two series: prey, predators)
//
// r = intrinsic_growth_rate, K = carrying_capacity, N(0) = initial_size,
// v = richards_shape; a = prey_growth_rate, b = predation_rate, d =
// predator_conversion, c = predator_death_rate. The deterministic SIR and SEIR
// (sir_ode, seir_ode) live with the other epidemic models (sim/epidemic_models.hpp).
#pragma once

#include "sgnn/sim/simulator.hpp"

namespace sgnn::sim {

// Closed-form solutions, used by the models' derived quantities and by the tests.
double logistic_solution(double r, double k, double n0, double t);
double gompertz_solution(double r, double k, double n0, double t);
double richards_solution(double r, double k, double n0, double shape, double t);

// H(x, y) = d x - c log x + b y - a log y, constant along every Lotka-Volterra orbit.
double lotka_volterra_invariant(double a, double b, double c, double d, double x, double y);

// Registers the models above (called by the simulator registry).
void register_ode_models(std::map<std::string, SimulatorFactory>& registry);

}  // namespace sgnn::sim
