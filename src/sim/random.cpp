#include "sgnn/sim/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace sgnn::sim {
namespace {

// Stirling correction log(k!) - [(k+1/2) log(k+1) - (k+1) + log(2 pi)/2], used by BTRD.
double stirling_correction(std::int64_t k) {
    static const std::array<double, 10> table = [] {
        std::array<double, 10> t{};
        for (int i = 0; i < 10; ++i) {
            const double kp1 = i + 1.0;
            t[i] = std::lgamma(kp1) - ((i + 0.5) * std::log(kp1) - kp1 + 0.5 * std::log(2.0 * M_PI));
        }
        return t;
    }();
    if (k < 10) return table[static_cast<std::size_t>(k)];
    const double kp1 = static_cast<double>(k) + 1.0;
    const double inv2 = 1.0 / (kp1 * kp1);
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) * inv2) * inv2) / kp1;
}

// 1/x for small x: the inversion loop's division becomes a multiplication.
const std::array<double, 64>& reciprocals() {
    static const std::array<double, 64> table = [] {
        std::array<double, 64> t{};
        for (int x = 1; x < 64; ++x) t[static_cast<std::size_t>(x)] = 1.0 / x;
        return t;
    }();
    return table;
}

// Sequential-search inversion with the recurrence f(x) = f(x-1) ((n+1) s / x - s),
// s = p/q; expected cost O(n p), so only for n p < 10.
// `log_q` is log(1 - p), passed in because callers that know a rate have it for free.
std::int64_t binomial_inversion(SampleStream& rng, std::int64_t n, double p, double log_q) {
    const double q = 1.0 - p;
    const double q_pow_n = std::exp(static_cast<double>(n) * log_q);
    const double np = static_cast<double>(n) * p;
    const double s = p / q;
    const double a = (static_cast<double>(n) + 1.0) * s;
    // Beyond this bound the remaining mass is negligible (< 1e-20); restarting keeps
    // round-off in px from walking past n.
    const std::int64_t bound = std::min<std::int64_t>(
        {n, static_cast<std::int64_t>(np + 10.0 * std::sqrt(np * q + 1.0)), 63});
    const auto& inverse = reciprocals();
    std::int64_t x = 0;
    double px = q_pow_n;
    double u = rng.uniform();
    while (u > px) {
        ++x;
        if (x > bound) {
            x = 0;
            px = q_pow_n;
            u = rng.uniform();
        } else {
            u -= px;
            px *= a * inverse[static_cast<std::size_t>(x)] - s;
        }
    }
    return x;
}

// Hörmann (1993), "The generation of binomial random variates", algorithm BTRD.
// Requires p <= 1/2 and n p >= 10; O(1) expected cost.
std::int64_t binomial_btrd(SampleStream& rng, std::int64_t n, double p) {
    // Only what the fast acceptance path (about 86% of draws) needs is computed up
    // front; the rest waits for the first rejection.
    const double nd = static_cast<double>(n);
    const double q = 1.0 - p;
    const double npq = nd * p * q;
    const double sqrt_npq = std::sqrt(npq);
    const double b = 1.15 + 2.53 * sqrt_npq;
    const double a = -0.0873 + 0.0248 * b + 0.01 * p;
    const double c = nd * p + 0.5;
    const double v_r = 0.92 - 4.2 / b;
    const double two_a = 2.0 * a;
    {
        // v <= 0.86 v_r  <=>  v / v_r <= 0.86; 1/v_r = b / (0.92 b - 4.2) keeps one
        // division, not two, on the dependency chain.
        const double v_scaled = rng.uniform() * (b / (0.92 * b - 4.2));
        if (v_scaled <= 0.86) {
            const double u = v_scaled - 0.43;
            // The argument is at least c - 1.1 sqrt(c) - 1.5 > 0 for c >= 10.5, so
            // truncation is floor (and avoids a libm call).
            return static_cast<std::int64_t>((two_a / (0.5 - std::fabs(u)) + b) * u + c);
        }
        rng.unget();  // the full loop below starts from this same uniform
    }
    const std::int64_t m = static_cast<std::int64_t>(std::floor((nd + 1.0) * p));
    const double r = p / q;
    const double nr = (nd + 1.0) * r;
    const double alpha = (2.83 + 5.1 / b) * sqrt_npq;

    for (;;) {
        double v = rng.uniform();
        double u;
        if (v <= 0.86 * v_r) {
            u = v / v_r - 0.43;
            return static_cast<std::int64_t>(std::floor((2.0 * a / (0.5 - std::fabs(u)) + b) * u + c));
        }
        if (v >= v_r) {
            u = rng.uniform() - 0.5;
        } else {
            u = v / v_r - 0.93;
            u = std::copysign(0.5, u) - u;
            v = rng.uniform() * v_r;
        }
        const double us = 0.5 - std::fabs(u);
        const double kd = std::floor((2.0 * a / us + b) * u + c);
        if (kd < 0.0 || kd > nd) continue;
        const std::int64_t k = static_cast<std::int64_t>(kd);
        v = v * alpha / (a / (us * us) + b);
        const std::int64_t km = k > m ? k - m : m - k;
        if (km <= 15) {
            // Recursive evaluation of f(k)/f(m).
            double f = 1.0;
            if (m < k) {
                for (std::int64_t i = m + 1; i <= k; ++i) f *= nr / static_cast<double>(i) - r;
            } else if (m > k) {
                for (std::int64_t i = k + 1; i <= m; ++i) v *= nr / static_cast<double>(i) - r;
            }
            if (v <= f) return k;
            continue;
        }
        // Squeeze on log f, then the exact log-ratio with Stirling corrections.
        v = std::log(v);
        const double kmd = static_cast<double>(km);
        const double rho = (kmd / npq) * (((kmd / 3.0 + 0.625) * kmd + 1.0 / 6.0) / npq + 0.5);
        const double t = -kmd * kmd / (2.0 * npq);
        if (v < t - rho) return k;
        if (v > t + rho) continue;
        const double nm = nd - static_cast<double>(m) + 1.0;
        const double h = (static_cast<double>(m) + 0.5) * std::log((static_cast<double>(m) + 1.0) / (r * nm)) +
                         stirling_correction(m) + stirling_correction(n - m);
        const double nk = nd - kd + 1.0;
        if (v <= h + (nd + 1.0) * std::log(nm / nk) + (kd + 0.5) * std::log(nk * r / (kd + 1.0)) -
                     stirling_correction(k) - stirling_correction(n - k)) {
            return k;
        }
    }
}

// Hörmann (1993), "The transformed rejection method for generating Poisson random
// variables", algorithm PTRS. For mean >= 10.
std::int64_t poisson_ptrs(SampleStream& rng, double mean) {
    const double sqrt_mean = std::sqrt(mean);
    const double log_mean = std::log(mean);
    const double b = 0.931 + 2.53 * sqrt_mean;
    const double a = -0.059 + 0.02483 * b;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const double v_r = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        const double u = rng.uniform() - 0.5;
        const double v = rng.uniform();
        const double us = 0.5 - std::fabs(u);
        const double kd = std::floor((2.0 * a / us + b) * u + mean + 0.43);
        if (us >= 0.07 && v <= v_r) return static_cast<std::int64_t>(kd);
        if (kd < 0.0 || (us < 0.013 && v > us)) continue;
        if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
            -mean + kd * log_mean - std::lgamma(kd + 1.0)) {
            return static_cast<std::int64_t>(kd);
        }
    }
}

}  // namespace

std::int64_t binomial(SampleStream& rng, std::int64_t n, double p) {
    if (n <= 0 || p <= 0.0) return 0;
    if (p >= 1.0) return n;
    const bool flipped = p > 0.5;
    const double pp = flipped ? 1.0 - p : p;
    const std::int64_t x = static_cast<double>(n) * pp < 10.0 ? binomial_inversion(rng, n, pp, std::log1p(-pp))
                                                               : binomial_btrd(rng, n, pp);
    return flipped ? n - x : x;
}

std::int64_t binomial_with_rate(SampleStream& rng, std::int64_t n, double rate) {
    if (n <= 0 || !(rate > 0.0)) return 0;
    const double p = -std::expm1(-rate);
    if (p > 0.5) return binomial(rng, n, p);
    // Same draws as binomial(rng, n, p); log(1 - p) = -rate saves a log1p.
    return static_cast<double>(n) * p < 10.0 ? binomial_inversion(rng, n, p, -rate) : binomial_btrd(rng, n, p);
}

std::int64_t poisson(SampleStream& rng, double mean) {
    if (!(mean > 0.0)) return 0;
    if (mean >= 10.0) return poisson_ptrs(rng, mean);
    // Multiplication method: count uniforms until their product drops below e^-mean.
    const double limit = std::exp(-mean);
    std::int64_t k = 0;
    double product = rng.uniform();
    while (product > limit) {
        ++k;
        product *= rng.uniform();
    }
    return k;
}

// Marsaglia & Tsang (2000); shape < 1 by the boost X * U^(1/shape).
double gamma(SampleStream& rng, double shape, double scale) {
    if (shape < 1.0) {
        const double boost = std::pow(rng.uniform(), 1.0 / shape);
        return gamma(rng, shape + 1.0, scale) * boost;
    }
    const double d = shape - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    for (;;) {
        const double x = rng.normal();
        double v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        const double u = rng.uniform();
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v * scale;
        if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return d * v * scale;
    }
}

std::int64_t negative_binomial(SampleStream& rng, double mean, double dispersion) {
    if (!(mean > 0.0)) return 0;
    if (!std::isfinite(dispersion)) return poisson(rng, mean);
    // Gamma-Poisson mixture: rate ~ Gamma(k, mean/k) has mean `mean`, variance mean^2/k.
    return poisson(rng, gamma(rng, dispersion, mean / dispersion));
}

}  // namespace sgnn::sim
