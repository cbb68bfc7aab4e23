// The exponential-growth-rate method for R0, the classical estimator from the early
// phase of an outbreak: fit the growth rate r of reported incidence, then turn it into
// R0 with the generation interval of the transmission model (Wallinga & Lipsitch 2007,
// R = 1 / sum_j g(j) e^{-r j}).
#pragma once

namespace sgnn::analysis {

// r of a Poisson regression log E[y_t] = a + r t over t = 0..days-1, by Newton's
// method (zeros are fine; a scale factor like the reporting rate only moves a); 0 for
// a series without counts.
double exponential_growth_rate(const double* series, int days);

// The days of the exponential phase: up to the peak of the 7-day centred moving
// average when the series has clearly declined since (its last average below 75% of
// the peak's), since a single exponential fitted across the peak says nothing about
// R0; at least min_days, at most days.
int exponential_phase_days(const double* series, int days, int min_days = 7);

// R0 = beta / gamma of the daily chain-binomial SIR (sim/epidemic_models.hpp) that
// grows at rate r per day. Its generation interval is geometric: infected on day t,
// infectious from day t + 1, still infectious on day t + j with probability
// (1 - p)^(j-1), p = 1 - e^{-gamma}, so g(j) = p (1 - p)^(j-1), and Euler-Lotka
// 1 = (beta / p) sum_j g(j) e^{-r j} gives beta = e^r - (1 - p):
// R0 = (e^r - e^{-gamma}) / gamma, gamma = 1 / infectious_period.
double chain_binomial_sir_r0(double growth_rate, double infectious_period);

}  // namespace sgnn::analysis
