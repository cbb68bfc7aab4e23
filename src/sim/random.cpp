#include "sgnn/sim/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

namespace sgnn::sim {
namespace {

// Binomial draws with a mean below this use inversion, above it BTRD. Inversion costs
// about one multiply-add per unit of the mean; BTRD a constant that, counting its
// rejections (up to half of all draws at small means), is worth about 20 units.
constexpr double kInversionBelow = 20.0;

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
const std::array<double, 256>& reciprocals() {
    static const std::array<double, 256> table = [] {
        std::array<double, 256> t{};
        for (int x = 1; x < 256; ++x) t[static_cast<std::size_t>(x)] = 1.0 / x;
        return t;
    }();
    return table;
}

// Sequential-search inversion with the recurrence f(x) = f(x-1) ((n+1) s / x - s),
// s = p/q, from f(0) = q^n and the uniform u; expected cost O(n p), so only for
// n p < kInversionBelow. A restart beyond x = 255 keeps round-off in f from walking
// on: the mass there is below 1e-100 at those means.
std::int64_t inversion_search(SampleStream& rng, std::int64_t n, double u, double q_pow_n, double s) {
    const double a = (static_cast<double>(n) + 1.0) * s;
    const std::int64_t bound = std::min<std::int64_t>(n, 255);
    const auto& inverse = reciprocals();
    std::int64_t x = 0;
    double px = q_pow_n;
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

std::int64_t binomial_inversion(SampleStream& rng, std::int64_t n, double p) {
    const double q_pow_n = std::exp(static_cast<double>(n) * std::log1p(-p));
    const double u = rng.uniform();
    return inversion_search(rng, n, u, q_pow_n, p / (1.0 - p));
}

// Inversion for Binomial(n, 1 - exp(-rate)), where q^n = exp(-n rate) and p/q =
// expm1(rate): a draw of 0, the common case at small means, costs a uniform and at
// most one exp; the rest of the set-up waits until the search needs it.
std::int64_t binomial_inversion_with_rate(SampleStream& rng, std::int64_t n, double rate) {
    const double mean_bound = static_cast<double>(n) * rate;
    const double u = rng.uniform();
    // 1 - x + x^2/2 - x^3/6 <= exp(-x) for x >= 0 (an alternating series cut after a
    // negative term): below it the draw is 0 without computing the exponential.
    if (u <= 1.0 - mean_bound * (1.0 - mean_bound * (0.5 - mean_bound * (1.0 / 6.0)))) return 0;
    const double q_pow_n = std::exp(-mean_bound);
    if (u <= q_pow_n) return 0;
    return inversion_search(rng, n, u, q_pow_n, std::expm1(rate));
}

// Hörmann (1993), "The generation of binomial random variates", algorithm BTRD.
// Requires p <= 1/2 and n p >= 10 (sgnn uses it from kInversionBelow); O(1) expected
// cost. Split in two: the fast acceptance (most draws, see draw_binomials for its
// vectorized form) and the rest of the rejection loop, which continues from the
// fast path's uniform. Both avoid divisions and libm calls where a multiplication or a
// truncation does: they sat on the dependency chain of every draw.
struct BtrdSetup {
    double nd, p, npq, sqrt_npq, b, a, c, inv_v_r;  // inv_v_r = 1 / v_r = b / (0.92 b - 4.2)
    BtrdSetup(std::int64_t n, double prob) : nd(static_cast<double>(n)), p(prob) {
        npq = nd * p * (1.0 - p);
        sqrt_npq = std::sqrt(npq);
        b = 1.15 + 2.53 * sqrt_npq;
        a = -0.0873 + 0.0248 * b + 0.01 * p;
        c = nd * p + 0.5;
        inv_v_r = b / (0.92 * b - 4.2);
    }
    // The fast acceptance for the uniform v: the draw, or -1 if v falls outside.
    // The argument is at least c - 1.1 sqrt(c) - 1.5 > 0 for c >= 10.5, so truncation
    // is floor.
    double fast(double v) const {
        const double w = v * inv_v_r;
        const double u = w - 0.43;
        return w <= 0.86 ? (2.0 * a / (0.5 - std::fabs(u)) + b) * u + c : -1.0;
    }
};

// BTRD after the fast acceptance failed for the uniform v (v / v_r > 0.86).
std::int64_t btrd_rejection(SampleStream& rng, std::int64_t n, const BtrdSetup& s, double v) {
    const double nd = s.nd, p = s.p, q = 1.0 - p, npq = s.npq, a = s.a, b = s.b, c = s.c;
    const double inv_npq = 1.0 / npq;
    const std::int64_t m = static_cast<std::int64_t>((nd + 1.0) * p);  // floor: the argument is positive
    const double r = p / q;
    const double nr = (nd + 1.0) * r;
    const double alpha = (2.83 + 5.1 / b) * s.sqrt_npq;
    for (bool first = true;; first = false) {
        if (!first) {
            v = rng.uniform();
            const double x = s.fast(v);
            if (x >= 0.0) return static_cast<std::int64_t>(x);
        }
        const double w = v * s.inv_v_r;  // v / v_r
        double u;
        if (w >= 1.0) {
            u = rng.uniform() - 0.5;
        } else {
            u = w - 0.93;
            u = std::copysign(0.5, u) - u;
            v = rng.uniform() / s.inv_v_r;  // uniform on (0, v_r)
        }
        const double us = 0.5 - std::fabs(u);
        const double t = (2.0 * a / us + b) * u + c;
        if (t < 0.0) continue;  // floor(t) < 0
        const double kd = static_cast<double>(static_cast<std::int64_t>(t));
        if (kd > nd) continue;
        const std::int64_t k = static_cast<std::int64_t>(kd);
        const double us2 = us * us;
        v = v * alpha * us2 / (a + b * us2);  // v alpha / (a / us^2 + b)
        const std::int64_t km = k > m ? k - m : m - k;
        if (km <= 15) {
            // Recursive evaluation of f(k)/f(m) = prod (nr/i - r) = prod (nr - r i) / prod i,
            // as two independent products and one division (a division per factor
            // made this the slowest part of the sampler). At most 15 factors below
            // (n + 1) r each, far from overflow.
            double numerator = 1.0, denominator = 1.0;
            const std::int64_t lo = std::min(k, m) + 1, hi = std::max(k, m);
            for (std::int64_t i = lo; i <= hi; ++i) {
                const double id = static_cast<double>(i);
                numerator *= nr - r * id;
                denominator *= id;
            }
            const double ratio = numerator / denominator;
            if (m < k ? v <= ratio : v * ratio <= 1.0) return k;
            continue;
        }
        // Squeeze on log f, then the exact log-ratio with Stirling corrections. The
        // squeeze first tries 1 - 1/v <= log v <= v - 1, which decides most cases
        // without the logarithm (and exactly as it would).
        const double kmd = static_cast<double>(km);
        const double rho = (kmd * inv_npq) * (((kmd / 3.0 + 0.625) * kmd + 1.0 / 6.0) * inv_npq + 0.5);
        const double t2 = -0.5 * kmd * kmd * inv_npq;
        if (v - 1.0 < t2 - rho) return k;
        if (1.0 - 1.0 / v > t2 + rho) continue;
        v = std::log(v);
        if (v < t2 - rho) return k;
        if (v > t2 + rho) continue;
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

std::int64_t binomial_btrd(SampleStream& rng, std::int64_t n, double p) {
    const BtrdSetup setup(n, p);
    const double v = rng.uniform();
    const double x = setup.fast(v);
    return x >= 0.0 ? static_cast<std::int64_t>(x) : btrd_rejection(rng, n, setup, v);
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

// Which algorithm draws Binomial(n, 1 - exp(-rate)). The mean n p is at most n rate,
// which decides without computing p; rates above log 2 mean p > 1/2 (drawn as n minus
// a draw with 1 - p).
enum class Regime { zero, inversion, btrd, flipped };
Regime regime_with_rate(std::int64_t n, double rate) {
    if (n <= 0 || !(rate > 0.0)) return Regime::zero;
    if (rate > 0.6931471805599453) return Regime::flipped;
    return static_cast<double>(n) * rate < kInversionBelow ? Regime::inversion : Regime::btrd;
}

}  // namespace

std::int64_t binomial(SampleStream& rng, std::int64_t n, double p) {
    if (n <= 0 || p <= 0.0) return 0;
    if (p >= 1.0) return n;
    const bool flipped = p > 0.5;
    const double pp = flipped ? 1.0 - p : p;
    const std::int64_t x =
        static_cast<double>(n) * pp < kInversionBelow ? binomial_inversion(rng, n, pp) : binomial_btrd(rng, n, pp);
    return flipped ? n - x : x;
}

void draw_binomials(const BinomialRequest* requests, int count, std::int64_t* out) {
    // Requests in BTRD's regime, by position k: their first uniform, n and p.
    thread_local std::vector<int> slot;
    thread_local std::vector<double> v, nd, p, y, w_scaled;
    const std::size_t capacity = static_cast<std::size_t>(count);
    if (slot.size() < capacity) {
        for (auto* array : {&v, &nd, &p, &y, &w_scaled}) array->resize(capacity);
        slot.resize(capacity);
    }
    std::size_t m = 0;
    for (int j = 0; j < count; ++j) {
        const BinomialRequest& r = requests[j];
        switch (regime_with_rate(r.n, r.rate)) {
            case Regime::zero:
                out[j] = 0;
                break;
            case Regime::inversion:
                out[j] = binomial_inversion_with_rate(*r.rng, r.n, r.rate);
                break;
            case Regime::flipped:
                out[j] = binomial(*r.rng, r.n, r.p > 0.0 ? r.p : -std::expm1(-r.rate));  // rare: scalar
                break;
            case Regime::btrd:
                slot[m] = j;
                v[m] = r.rng->uniform();
                nd[m] = static_cast<double>(r.n);
                p[m] = r.p > 0.0 ? r.p : -std::expm1(-r.rate);
                ++m;
                break;
        }
    }
    // BTRD's fast acceptance (BtrdSetup and its fast()), the same expressions in the
    // same order, for every BTRD request at once: no calls and no branches, so it
    // vectorizes and the square roots and divisions of different draws overlap.
    const double* __restrict vs = v.data();
    const double* __restrict ns = nd.data();
    const double* __restrict ps = p.data();
    double* __restrict ys = y.data();
    double* __restrict ws = w_scaled.data();
    for (std::size_t k = 0; k < m; ++k) {
        const double npq = ns[k] * ps[k] * (1.0 - ps[k]);
        const double b = 1.15 + 2.53 * std::sqrt(npq);
        const double a = -0.0873 + 0.0248 * b + 0.01 * ps[k];
        const double c = ns[k] * ps[k] + 0.5;
        const double w = vs[k] * (b / (0.92 * b - 4.2));
        const double u = w - 0.43;
        ys[k] = (2.0 * a / (0.5 - std::fabs(u)) + b) * u + c;
        ws[k] = w;
    }
    for (std::size_t k = 0; k < m; ++k) {
        const BinomialRequest& r = requests[slot[k]];
        out[slot[k]] = ws[k] <= 0.86 ? static_cast<std::int64_t>(ys[k])
                                     : btrd_rejection(*r.rng, r.n, BtrdSetup(r.n, ps[k]), vs[k]);
    }
}

std::int64_t draw_binomial(const BinomialRequest& r) {
    switch (regime_with_rate(r.n, r.rate)) {
        case Regime::zero:
            return 0;
        case Regime::inversion:
            return binomial_inversion_with_rate(*r.rng, r.n, r.rate);
        case Regime::flipped:
            return binomial(*r.rng, r.n, r.p > 0.0 ? r.p : -std::expm1(-r.rate));
        case Regime::btrd:
            break;
    }
    return binomial_btrd(*r.rng, r.n, r.p > 0.0 ? r.p : -std::expm1(-r.rate));
}

std::int64_t binomial_with_rate(SampleStream& rng, std::int64_t n, double rate) {
    return draw_binomial({&rng, n, rate});
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
