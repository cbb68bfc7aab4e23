#include "sgnn/analysis/growth_rate_method.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sgnn::analysis {

namespace {

constexpr double kDeclineAfterPeak = 0.75;

}  // namespace

double exponential_growth_rate(const double* series, int days) {
    // Start from the line through log(1 + y) by least squares, then Newton steps on
    // the Poisson log-likelihood sum y_t (a + r t) - exp(a + r t).
    double st = 0, sy = 0, stt = 0, sty = 0;
    for (int t = 0; t < days; ++t) {
        const double l = std::log1p(series[t]);
        st += t, sy += l, stt += static_cast<double>(t) * t, sty += t * l;
    }
    const double n = days;
    const double slope = (n * sty - st * sy) / (n * stt - st * st);
    double total = 0.0;
    for (int t = 0; t < days; ++t) total += series[t];
    if (!(total > 0.0)) return 0.0;  // nothing reported: no growth to measure
    double r = slope;
    double a = (sy - r * st) / n;
    for (int iteration = 0; iteration < 100; ++iteration) {
        double g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
        for (int t = 0; t < days; ++t) {
            const double mu = std::exp(a + r * t);
            g0 += series[t] - mu;
            g1 += (series[t] - mu) * t;
            h00 += mu, h01 += mu * t, h11 += mu * static_cast<double>(t) * t;
        }
        const double det = h00 * h11 - h01 * h01;
        if (!(det > 0)) break;
        const double da = (h11 * g0 - h01 * g1) / det, dr = (h00 * g1 - h01 * g0) / det;
        // Damped: a full step from a poor start can overshoot exp().
        const double scale = std::fabs(dr) > 0.5 ? 0.5 / std::fabs(dr) : 1.0;
        a += scale * da;
        r += scale * dr;
        if (std::fabs(dr) < 1e-12 && std::fabs(da) < 1e-12) break;
    }
    // The Poisson fit has no finite optimum when the counts sit in a corner (a single
    // non-zero day); the least-squares slope of log(1 + y) is then the estimate.
    return std::isfinite(r) && std::fabs(r) < 2.0 ? r : slope;
}

int exponential_phase_days(const double* series, int days, int min_days) {
    std::vector<double> average(static_cast<std::size_t>(days));
    int peak = 0;
    for (int t = 0; t < days; ++t) {
        double sum = 0.0;
        int count = 0;
        for (int u = std::max(0, t - 3); u <= std::min(days - 1, t + 3); ++u, ++count) sum += series[u];
        average[static_cast<std::size_t>(t)] = sum / count;
        if (average[static_cast<std::size_t>(t)] > average[static_cast<std::size_t>(peak)]) peak = t;
    }
    // Only a clear decline after the peak ends the phase; noise around a plateau does not.
    if (average.back() > kDeclineAfterPeak * average[static_cast<std::size_t>(peak)]) return days;
    return std::min(days, std::max(min_days, peak + 1));
}

double chain_binomial_sir_r0(double growth_rate, double infectious_period) {
    const double gamma = 1.0 / infectious_period;
    return (std::exp(growth_rate) - std::exp(-gamma)) / gamma;
}

}  // namespace sgnn::analysis
