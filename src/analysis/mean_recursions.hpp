// The mean models of analysis/mean_models.hpp as templates over the scalar type, so
// that the likelihood fits differentiate them exactly (dual.hpp). `latent` false
// ignores latent_period.
#pragma once

#include <cmath>

namespace sgnn::analysis::detail {

using std::exp;
using std::expm1;
using std::log;

template <class T>
void chain_binomial_mean(const T& r0, const T& infectious_period, const T& latent_period, bool latent,
                         const T& reporting_rate, const T& initial_infected, double population, int days, T* out) {
    const T gamma = 1.0 / infectious_period;
    const T beta_per_person = r0 * gamma / population;
    const T leave_i = -expm1(-gamma);
    const T leave_e = latent ? T(-expm1(-1.0 / latent_period)) : T(0.0);
    T s = population - initial_infected, e(0.0), i = initial_infected;
    for (int d = 0; d < days; ++d) {
        const T infections = s * -expm1(-beta_per_person * i);
        const T recoveries = i * leave_i;
        s -= infections;
        if (latent) {
            const T onsets = e * leave_e;
            e += infections - onsets;
            i += onsets - recoveries;
            out[d] = reporting_rate * onsets;
        } else {
            i += infections - recoveries;
            out[d] = reporting_rate * infections;
        }
    }
}

// dy/dt of (s, e, i, c) in population shares; e stays 0 without a latent class.
template <class T>
void epidemic_rhs(const T* y, const T& beta, const T& gamma, const T& sigma, bool latent, T* dydt) {
    const T infection = beta * y[0] * y[2];
    const T onset = latent ? sigma * y[1] : infection;
    dydt[0] = -infection;
    dydt[1] = latent ? infection - onset : T(0.0);
    dydt[2] = onset - gamma * y[2];
    dydt[3] = onset;
}

template <class T>
void epidemic_ode_mean(const T& r0, const T& infectious_period, const T& latent_period, bool latent,
                       const T& reporting_rate, const T& initial_infected, double population, int days, T* out) {
    const T gamma = 1.0 / infectious_period, beta = r0 * gamma;
    const T sigma = latent ? T(1.0 / latent_period) : T(0.0);
    constexpr int kStepsPerDay = 8;
    const double h = 1.0 / kStepsPerDay;
    T y[4] = {1.0 - initial_infected / population, T(0.0), initial_infected / population, T(0.0)};
    T k1[4], k2[4], k3[4], k4[4], t[4];
    for (int d = 0; d < days; ++d) {
        const T before = y[3];
        for (int step = 0; step < kStepsPerDay; ++step) {
            epidemic_rhs(y, beta, gamma, sigma, latent, k1);
            for (int q = 0; q < 4; ++q) t[q] = y[q] + (0.5 * h) * k1[q];
            epidemic_rhs(t, beta, gamma, sigma, latent, k2);
            for (int q = 0; q < 4; ++q) t[q] = y[q] + (0.5 * h) * k2[q];
            epidemic_rhs(t, beta, gamma, sigma, latent, k3);
            for (int q = 0; q < 4; ++q) t[q] = y[q] + h * k3[q];
            epidemic_rhs(t, beta, gamma, sigma, latent, k4);
            for (int q = 0; q < 4; ++q) y[q] += (h / 6.0) * (k1[q] + 2.0 * k2[q] + 2.0 * k3[q] + k4[q]);
        }
        out[d] = reporting_rate * population * (y[3] - before);
    }
}

// logistic (gompertz = false) or Gompertz closed forms on days 0..days-1.
template <class T>
void growth_mean(bool gompertz, const T& r, const T& k, const T& n0, int days, T* out) {
    const T log_ratio = log(n0 / k);
    for (int d = 0; d < days; ++d) {
        const T decay = exp(-r * static_cast<double>(d));
        out[d] = gompertz ? k * exp(log_ratio * decay) : k / (1.0 + (k / n0 - 1.0) * decay);
    }
}

}  // namespace sgnn::analysis::detail
