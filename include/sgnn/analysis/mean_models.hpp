// Deterministic mean trajectories that classical likelihood fits put noise models on.
//
// For a daily chain-binomial epidemic the natural mean is the mean field of the same
// daily recursion: expected transitions applied to expected states. It differs from
// the continuous-time ODE mean: in the daily model a new infection can infect others
// only from the next day on, a built-in one-day latency that lets a continuous SEIR
// ODE fit SIR data better than the SIR ODE does (docs/notes/model-selection-design.md).
// Fits offer both, and the experiments compare against the stronger.
#pragma once

#include <string>

namespace sgnn::analysis {

struct EpidemicMeanParameters {
    double r0 = 2.0;
    double infectious_period = 5.0;  // 1 / gamma, days
    double latent_period = 0.0;      // 1 / sigma, days; 0: no latent class (SIR)
    double reporting_rate = 1.0;
    double initial_infected = 10.0;
    double population = 1e5;
};

// Expected reported incidence of days 1..days (out[0] is day 1's) of the daily
// chain-binomial SIR/SEIR of sim/epidemic_models.cpp: infections
// S (1 - exp(-beta I / N)), onsets E (1 - exp(-sigma)), recoveries I (1 - exp(-gamma)),
// times the reporting rate.
void chain_binomial_mean(const EpidemicMeanParameters& p, int days, double* out);

// The same quantity for the continuous-time SIR/SEIR ODE: N (C(d+1) - C(d)) with C
// the cumulative share that has become infectious, times the reporting rate.
// Integrated by classical RK4 with a fixed 1/8-day step: a likelihood optimizer needs
// an objective that is a smooth function of the parameters, which an adaptive step
// controller does not give (its step choices jump); at this step the error is far
// below the noise of any count (tested against the PETSc TS model sir_ode).
void epidemic_ode_mean(const EpidemicMeanParameters& p, int days, double* out);

enum class GrowthLaw { logistic, gompertz };
GrowthLaw growth_law(const std::string& name);  // "logistic" or "gompertz"

// Population sizes on days 0..days-1 from N0: the closed-form solutions
// logistic  N(t) = K / (1 + (K/N0 - 1) e^{-rt})
// gompertz  N(t) = K exp(log(N0/K) e^{-rt})
void growth_mean(GrowthLaw law, double r, double k, double n0, int days, double* out);

}  // namespace sgnn::analysis
