#include "sgnn/sim/random.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

namespace sgnn::sim {
namespace {

// Binomial draws with a mean below this use inversion, above it BTRD. Inversion costs
// about one multiply-add per unit of the mean; BTRD a constant that, counting its
// rejections (up to half of all draws at small means), is worth about 20 units.
constexpr double kInversionBelow = 20.0;

// Stirling's correction log(k!) - [(k+1/2) log(k+1) - (k+1) + log(2 pi)/2] for an
// integer k >= 0, used by BTRD: a table below 10 (the values rounded from 40-digit
// arithmetic, so no libm result enters a draw), three terms of the series above.
// Branch-free, so loops over it vectorize.
inline double stirling_correction(double k) {
    constexpr std::array<double, 10> kSmall{
        0.08106146679532726,  0.0413406959554093,  0.02767792568499834,  0.020790672103765093, 0.016644691189821193,
        0.013876128823070748, 0.01189670994589177, 0.010411265261972096, 0.009255462182712733, 0.00833056343336287};
    const double kp1 = k + 1.0;
    const double inv2 = 1.0 / (kp1 * kp1);
    const double series = (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) * inv2) * inv2) / kp1;
    double exact = 0.0;
    for (int j = 0; j < 10; ++j) exact = k == j ? kSmall[static_cast<std::size_t>(j)] : exact;
    return k < 10.0 ? exact : series;
}

// The vectorized sampler kernels below are compiled for AVX-512, AVX2 and baseline
// x86-64, chosen at load time by the CPU (GCC function multi-versioning). They use
// only IEEE operations that round the same at any vector width (and
// -ffp-contract=off, see CMakeLists.txt), so every clone draws the same bits.
#if !defined(SGNN_VECTOR_KERNEL) && defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__)
#define SGNN_VECTOR_KERNEL __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#elif !defined(SGNN_VECTOR_KERNEL)
#define SGNN_VECTOR_KERNEL
#endif

// 1/x for x < 256, as constants: the inversion search's division becomes a
// multiplication, and the Taylor series below divide by k through it.
constexpr std::array<double, 256> kInverse = [] {
    std::array<double, 256> table{};
    for (std::size_t x = 1; x < table.size(); ++x) table[x] = 1.0 / static_cast<double>(x);
    return table;
}();

// Sequential-search inversion with the recurrence f(x) = f(x-1) (a / x - s), where
// s = p/q and a = (n+1) s, from f(0) = q^n and a uniform u; expected cost O(n p), so
// only for n p < kInversionBelow. Continues a search at x with f(x) = px and u the
// uniform's rest. A restart beyond x = bound = min(n, 255) keeps round-off in f from
// walking on: the mass there is below 1e-100 at those means.
std::int64_t continue_inversion(SampleStream& rng, double bound, double a, double s, double q_pow_n, double x,
                                double px, double u) {
    while (u > px) {
        x += 1.0;
        if (x > bound) {
            x = 0.0;
            px = q_pow_n;
            u = rng.uniform();
        } else {
            u -= px;
            px *= a * kInverse[static_cast<std::size_t>(x)] - s;
        }
    }
    return static_cast<std::int64_t>(x);
}

std::int64_t binomial_inversion(SampleStream& rng, std::int64_t n, double p) {
    const double nd = static_cast<double>(n);
    const double q_pow_n = std::exp(nd * std::log1p(-p));
    const double s = p / (1.0 - p);
    const double u = rng.uniform();
    return continue_inversion(rng, std::min(nd, 255.0), (nd + 1.0) * s, s, q_pow_n, 0.0, q_pow_n, u);
}

// log 2 in two parts (fdlibm): kLn2Hi has 32 trailing zero bits, so k kLn2Hi is exact
// for the integers k that exp and log reduce by.
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;

// 1 - exp(-x) and exp(x) - 1 for 0 <= x <= log 2, by their Taylor series to x^17
// (the rest is below 1e-18 of the value) in nested form, x (1 -+ x/2 (1 -+ x/3 (...))),
// which keeps full relative precision at small x. Like log_of_positive below: inline,
// vectorizable, the same bits on every CPU.
inline double one_minus_exp_neg_small(double x) {
    double t = 1.0;
#pragma GCC unroll 16
    for (int k = 17; k >= 2; --k) t = 1.0 - x * kInverse[static_cast<std::size_t>(k)] * t;
    return x * t;
}

inline double expm1_small(double x) {
    double t = 1.0;
#pragma GCC unroll 16
    for (int k = 17; k >= 2; --k) t = 1.0 + x * kInverse[static_cast<std::size_t>(k)] * t;
    return x * t;
}

// exp(-y) for 0 <= y <= 700: y = k log 2 + r with |r| <= log(2)/2 (fdlibm's two-part
// log 2), exp(-r) by its Taylor series to r^14 in nested form, then times 2^-k.
inline double exp_of_negative(double y) {
    constexpr double kInvLn2 = 1.44269504088896338700e+00;
    const double k = (y * kInvLn2 + 0x1.8p52) - 0x1.8p52;  // nearest integer
    const double r = (y - k * kLn2Hi) - k * kLn2Lo;
    double t = 1.0;
#pragma GCC unroll 14
    for (int j = 14; j >= 1; --j) t = 1.0 - r * kInverse[static_cast<std::size_t>(j)] * t;
    const double k_shifted = k + 0x1p52;  // its low mantissa bits hold k
    std::uint64_t k_bits;
    std::memcpy(&k_bits, &k_shifted, sizeof k_bits);
    const std::uint64_t scale_bits = (std::uint64_t{1023} - (k_bits & 0xfffULL)) << 52;  // 2^-k
    double scale;
    std::memcpy(&scale, &scale_bits, sizeof scale);
    return t * scale;
}

// log(x) for a normal, finite x > 0, within an ulp (fdlibm's e_log.c: x = 2^k m with
// m in [sqrt(1/2), sqrt(2)), then a minimax polynomial in s = (m-1)/(m+1)). Unlike
// std::log it inlines into loops the compiler vectorizes, and it has the same bits on
// every x86-64 CPU, where glibc picks its log by CPU features.
inline double log_of_positive(double x) {
    constexpr std::uint64_t kSqrtHalfBits = 0x3fe6a09e667f3bcdULL, kExponentOne = 0x3ff0000000000000ULL;
    constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01, kLg3 = 2.857142874366239149e-01,
                     kLg4 = 2.222219843214978396e-01, kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                     kLg7 = 1.479819860511658591e-01;
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    // Unsigned arithmetic only (it vectorizes on plain SSE2): biased = k + 1023.
    const std::uint64_t biased = (bits - kSqrtHalfBits + kExponentOne) >> 52;
    const std::uint64_t mantissa_bits = bits - ((biased << 52) - kExponentOne);
    const std::uint64_t k_bits = 0x4330000000000000ULL | biased;  // the double 2^52 + biased
    double m, k;
    std::memcpy(&m, &mantissa_bits, sizeof m);
    std::memcpy(&k, &k_bits, sizeof k);
    k -= 0x1p52 + 1023.0;
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s, w = z * z;
    const double r = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7))) + w * (kLg2 + w * (kLg4 + w * kLg6));
    const double half_f2 = 0.5 * f * f;
    return k * kLn2Hi - ((half_f2 - (s * (half_f2 + r) + k * kLn2Lo)) - f);
}

// floor(x) for 0 <= x < 2^51 without a conversion to an integer, so that it vectorizes.
inline double floor_nonnegative(double x) {
    const double rounded = (x + 0x1p52) - 0x1p52;
    return rounded - (rounded > x ? 1.0 : 0.0);
}

// Hörmann (1993), "The generation of binomial random variates", algorithm BTRD.
// Requires p <= 1/2 and n p >= 10 (sgnn uses it from kInversionBelow); O(1) expected
// cost. Split in two: the fast acceptance (most draws; draw_binomials computes it for
// a whole block in one vectorized loop) and BtrdRejections, the rest of the algorithm
// for the draws the fast acceptance left. Both avoid divisions and libm calls where a
// multiplication or a truncation does: they sat on the dependency chain of every draw.
struct BtrdSetup {
    double nd, p, npq, sqrt_npq, b, a, c, inv_v_r;  // inv_v_r = 1 / v_r = b / (0.92 b - 4.2)
    BtrdSetup(double n, double prob) : nd(n), p(prob) {
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

// The BTRD draws whose fast acceptance failed (about a third of them at means below a
// few hundred), finished together in rounds. Each round draws two uniforms per pending
// draw and decides every candidate in one branch-free loop the compiler vectorizes:
// the fast acceptance again, Hörmann's candidate k and his squeeze on log f(k)/f(m);
// then the exact log-ratio for the candidates the squeeze left open (a quarter of
// them), gathered into a second vectorized loop. A draw alone goes through the same
// code as a block's, so it has the same bits.
class BtrdRejections {
public:
    void clear() { size_ = 0; }

    // A draw of Binomial(n, p) whose fast acceptance failed for the uniform v. The
    // arrays only grow, so a sampler that draws one at a time allocates nothing.
    void add(SampleStream* rng, std::int64_t n, double p, double v, std::int64_t* out) {
        if (size_ == rng_.size()) grow(2 * size_ + 16);
        rng_[size_] = rng;
        out_[size_] = out;
        nd_[size_] = static_cast<double>(n);
        p_[size_] = p;
        v_[size_] = v;
        ++size_;
    }

    // Finishes every draw added, writing each to its *out.
    void run() {
        std::size_t count = size_;
        set_up(count);
        for (bool first = true; count > 0; first = false) {
            for (std::size_t i = 0; i < count; ++i) {
                if (!first) v_[i] = rng_[i]->uniform();
                u_[i] = rng_[i]->uniform();
            }
            decide(count, first);
            test_exactly(count);
            std::size_t pending = 0;
            for (std::size_t i = 0; i < count; ++i) {
                const double outcome = outcome_[i];
                if (outcome >= 0.0) {
                    *out_[i] = static_cast<std::int64_t>(outcome);
                } else {
                    keep(i, pending++);
                }
            }
            count = pending;
        }
    }

private:
    static constexpr double kRejected = -1.0, kUndecided = -2.0;

    void grow(std::size_t capacity) {
        rng_.resize(capacity);
        out_.resize(capacity);
        open_.resize(capacity);
        for (auto* field : {&nd_,        &p_,      &v_,       &u_,      &b_,      &a_,       &c_,         &inv_v_r_,
                            &v_r_,       &alpha_,  &m_,       &r_,      &h_,      &inv_npq_, &outcome_,   &log_v_,
                            &candidate_, &open_k_, &open_nd_, &open_r_, &open_m_, &open_h_,  &open_log_v_}) {
            field->resize(capacity);
        }
    }

    // The constants of each draw's hat and squeeze.
    SGNN_VECTOR_KERNEL void set_up(std::size_t count) {
        const double* __restrict nd = nd_.data();
        const double* __restrict p = p_.data();
        double* __restrict b = b_.data();
        double* __restrict a = a_.data();
        double* __restrict c = c_.data();
        double* __restrict inv_v_r = inv_v_r_.data();
        double* __restrict v_r = v_r_.data();
        double* __restrict alpha = alpha_.data();
        double* __restrict mode = m_.data();
        double* __restrict r = r_.data();
        double* __restrict h = h_.data();
        double* __restrict inv_npq = inv_npq_.data();
#pragma GCC ivdep
        for (std::size_t i = 0; i < count; ++i) {
            const BtrdSetup s(nd[i], p[i]);
            b[i] = s.b;
            a[i] = s.a;
            c[i] = s.c;
            inv_v_r[i] = s.inv_v_r;
            v_r[i] = 0.92 - 4.2 / s.b;
            alpha[i] = (2.83 + 5.1 / s.b) * s.sqrt_npq;
            mode[i] = floor_nonnegative((s.nd + 1.0) * s.p);
            r[i] = s.p / (1.0 - s.p);
            // log f(m) up to what log f(k) shares with it (see test_exactly).
            const double nm = s.nd - mode[i] + 1.0;
            h[i] = (mode[i] + 0.5) * log_of_positive((mode[i] + 1.0) / (r[i] * nm)) + stirling_correction(mode[i]) +
                   stirling_correction(s.nd - mode[i]);
            inv_npq[i] = 1.0 / s.npq;
        }
    }

    // One BTRD step for each pending draw from its uniforms v (fresh after the first
    // round) and u: outcome = the draw, kRejected or kUndecided. Every branch is
    // computed and then selected, so the loop has no control flow and vectorizes.
    SGNN_VECTOR_KERNEL void decide(std::size_t count, bool first) {
        const double* __restrict nd = nd_.data();
        const double* __restrict v_in = v_.data();
        const double* __restrict u_in = u_.data();
        const double* __restrict b_of = b_.data();
        const double* __restrict a_of = a_.data();
        const double* __restrict c_of = c_.data();
        const double* __restrict inv_v_r = inv_v_r_.data();
        const double* __restrict v_r = v_r_.data();
        const double* __restrict alpha = alpha_.data();
        const double* __restrict mode = m_.data();
        const double* __restrict inv_npq = inv_npq_.data();
        double* __restrict outcome = outcome_.data();
        double* __restrict log_v_out = log_v_.data();
        double* __restrict candidate = candidate_.data();
        const double fast_limit = first ? -1.0 : 0.86;  // the first round's v already failed it
#pragma GCC ivdep
        for (std::size_t i = 0; i < count; ++i) {
            const double a = a_of[i], b = b_of[i], c = c_of[i], m = mode[i];
            const double w = v_in[i] * inv_v_r[i];  // v / v_r
            const double u_fast = w - 0.43;
            const double fast = (2.0 * a / (0.5 - std::fabs(u_fast)) + b) * u_fast + c;
            // Beyond w = 1 the candidate comes from the fresh uniform and keeps v;
            // between 0.86 and 1 from w, and v becomes the fresh uniform scaled to v_r.
            const bool beyond = w >= 1.0;
            const double u_near = w - 0.93;
            const double u_beyond = u_in[i] - 0.5, u_between = std::copysign(0.5, u_near) - u_near;
            const double v_between = u_in[i] * v_r[i];
            const double u = beyond ? u_beyond : u_between;
            const double v = beyond ? v_in[i] : v_between;
            const double us = 0.5 - std::fabs(u);
            const double t = (2.0 * a / us + b) * u + c;
            const double k = floor_nonnegative(std::min(std::max(t, 0.0), 0x1p51));
            const bool in_range = (t >= 0.0) & (k <= nd[i]);
            const double us2 = us * us;
            // The test variable is v alpha / (a / us^2 + b) = scaled / denominator.
            const double scaled = v * alpha[i] * us2, denominator = a + b * us2;
            // Hörmann's squeeze t2 - rho < log f(k)/f(m) < t2 + rho. Its lower side
            // fails far below the mode (checked against lgamma: for |k - m| > 0.84 npq
            // and k < m), so there it only rejects and the exact test decides the rest.
            const double km = std::fabs(k - m);
            const double rho = (km * inv_npq[i]) * (((km * (1.0 / 3.0) + 0.625) * km + 1.0 / 6.0) * inv_npq[i] + 0.5);
            const double t2 = -0.5 * km * km * inv_npq[i];
            const double log_v = log_of_positive(scaled / denominator);
            const double lower = km * inv_npq[i] <= 0.5 ? t2 - rho : -HUGE_VAL, upper = t2 + rho;
            const double squeezed = log_v < lower ? k : log_v > upper ? kRejected : kUndecided;
            const double step_outcome = in_range ? squeezed : kRejected;
            outcome[i] = w <= fast_limit ? fast : step_outcome;
            log_v_out[i] = log_v;
            candidate[i] = k;
        }
    }

    // Hörmann's final test for the candidates the squeeze left open: log v against
    // the exact log f(k)/f(m) by Stirling's series. Gathered into contiguous arrays
    // first, so that the test runs as one vectorized loop.
    SGNN_VECTOR_KERNEL void test_exactly(std::size_t count) {
        std::size_t open = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (outcome_[i] != kUndecided) continue;
            open_[open] = i;
            open_k_[open] = candidate_[i];
            open_nd_[open] = nd_[i];
            open_r_[open] = r_[i];
            open_m_[open] = m_[i];
            open_h_[open] = h_[i];
            open_log_v_[open] = log_v_[i];
            ++open;
        }
#pragma GCC ivdep
        for (std::size_t j = 0; j < open; ++j) {
            const double nd = open_nd_[j], kd = open_k_[j], r = open_r_[j];
            const double nm = nd - open_m_[j] + 1.0, nk = nd - kd + 1.0;
            const double log_ratio = open_h_[j] + (nd + 1.0) * log_of_positive(nm / nk) +
                                     (kd + 0.5) * log_of_positive(nk * r / (kd + 1.0)) - stirling_correction(kd) -
                                     stirling_correction(nd - kd);
            open_log_v_[j] = open_log_v_[j] <= log_ratio ? kd : kRejected;  // now the outcome
        }
        for (std::size_t j = 0; j < open; ++j) outcome_[open_[j]] = open_log_v_[j];
    }

    // Moves pending draw `from` to position `to` (to <= from) for the next round.
    void keep(std::size_t from, std::size_t to) {
        rng_[to] = rng_[from];
        out_[to] = out_[from];
        for (auto* field : {&nd_, &b_, &a_, &c_, &inv_v_r_, &v_r_, &alpha_, &m_, &r_, &h_, &inv_npq_}) {
            (*field)[to] = (*field)[from];
        }
    }

    std::size_t size_ = 0;  // draws added; the arrays hold at least this many
    std::vector<SampleStream*> rng_;
    std::vector<std::int64_t*> out_;
    std::vector<double> nd_, p_, v_, u_, b_, a_, c_, inv_v_r_, v_r_, alpha_, m_, r_, h_, inv_npq_;
    std::vector<double> outcome_, log_v_, candidate_;  // per round
    // The candidates test_exactly() decides, gathered.
    std::vector<std::size_t> open_;
    std::vector<double> open_k_, open_nd_, open_r_, open_m_, open_h_, open_log_v_;
};

// The inversion draws of a block, finished together. Set-up (inline exp, no libm
// calls) and the first kLockstep steps of every search run as one vectorized loop: a
// search still going at step j is at x = j, so the step's 1/x is a constant. The few
// searches that go further (means near kInversionBelow) finish one at a time, with
// the same arithmetic.
class InversionDraws {
public:
    void clear() { size_ = 0; }

    // A draw of Binomial(n, 1 - exp(-rate)) with n rate < kInversionBelow, from the
    // uniform u. The arrays only grow (see BtrdRejections::add).
    void add(SampleStream* rng, std::int64_t n, double rate, double u, std::int64_t* out) {
        if (size_ == rng_.size()) {
            const std::size_t capacity = 2 * size_ + 16;
            rng_.resize(capacity);
            out_.resize(capacity);
            for (auto* field : {&nd_, &rate_, &u_, &x_, &px_, &a_, &s_, &q_}) field->resize(capacity);
        }
        rng_[size_] = rng;
        out_[size_] = out;
        nd_[size_] = static_cast<double>(n);
        rate_[size_] = rate;
        u_[size_] = u;
        ++size_;
    }

    SGNN_VECTOR_KERNEL void run() {
        const std::size_t count = size_;
        const double* __restrict nd = nd_.data();
        const double* __restrict rate = rate_.data();
        double* __restrict rest = u_.data();
        double* __restrict x_out = x_.data();
        double* __restrict px_out = px_.data();
        double* __restrict a_out = a_.data();
        double* __restrict s_out = s_.data();
        double* __restrict q_out = q_.data();
#pragma GCC ivdep
        for (std::size_t i = 0; i < count; ++i) {
            const double q_pow_n = exp_of_negative(nd[i] * rate[i]);  // (1 - p)^n
            const double s = expm1_small(rate[i]);                    // p / (1 - p)
            const double a = (nd[i] + 1.0) * s;
            const double bound = std::min(nd[i], 255.0);
            double x = 0.0, px = q_pow_n, u = rest[i];
#pragma GCC unroll 12
            for (int step = 1; step <= kLockstep; ++step) {
                const bool go = u > (x < bound ? px : HUGE_VAL);  // u > px and x < bound
                const double u_next = u - px;
                const double px_next = px * (a * kInverse[static_cast<std::size_t>(step)] - s);
                x = go ? static_cast<double>(step) : x;
                u = go ? u_next : u;
                px = go ? px_next : px;
            }
            x_out[i] = x;
            px_out[i] = px;
            rest[i] = u;
            a_out[i] = a;
            s_out[i] = s;
            q_out[i] = q_pow_n;
        }
        for (std::size_t i = 0; i < count; ++i) {
            *out_[i] = rest[i] > px_out[i] ? continue_inversion(*rng_[i], std::min(nd[i], 255.0), a_out[i], s_out[i],
                                                                q_out[i], x_out[i], px_out[i], rest[i])
                                           : static_cast<std::int64_t>(x_out[i]);
        }
    }

private:
    static constexpr int kLockstep = 12;

    std::size_t size_ = 0;
    std::vector<SampleStream*> rng_;
    std::vector<std::int64_t*> out_;
    std::vector<double> nd_, rate_, u_, x_, px_, a_, s_, q_;
};

std::int64_t binomial_btrd(SampleStream& rng, std::int64_t n, double p) {
    const BtrdSetup setup(static_cast<double>(n), p);
    const double v = rng.uniform();
    const double x = setup.fast(v);
    if (x >= 0.0) return static_cast<std::int64_t>(x);
    thread_local BtrdRejections alone;
    std::int64_t drawn = 0;
    alone.clear();
    alone.add(&rng, n, p, v, &drawn);
    alone.run();
    return drawn;
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

// BTRD's fast acceptance for the first uniforms v of a block's BTRD draws at once: no
// calls and no branches, so it vectorizes and the square roots and divisions of
// different draws overlap. p is the caller's where given (> 0), else 1 - exp(-rate);
// y the draw, or -1.
SGNN_VECTOR_KERNEL void btrd_fast_acceptance(std::size_t count, const double* __restrict v, const double* __restrict nd,
                                             const double* __restrict rate, const double* __restrict given_p,
                                             double* __restrict p, double* __restrict y) {
    for (std::size_t k = 0; k < count; ++k) {
        const double computed = one_minus_exp_neg_small(rate[k]);
        const double pk = given_p[k] > 0.0 ? given_p[k] : computed;
        y[k] = BtrdSetup(nd[k], pk).fast(v[k]);
        p[k] = pk;
    }
}

}  // namespace

double probability_of_rate(double rate) {
    if (!(rate > 0.0)) return 0.0;
    if (rate <= 0.6931471805599453) return one_minus_exp_neg_small(rate);
    return rate < 700.0 ? 1.0 - exp_of_negative(rate) : 1.0;  // above 1/2: no cancellation
}

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
    // Requests in BTRD's regime, by position k: their first uniform, n, rate and the
    // caller's p (0 if none).
    thread_local std::vector<int> slot;
    thread_local std::vector<double> v, nd, rate, given_p, p, y;
    const std::size_t capacity = static_cast<std::size_t>(count);
    if (slot.size() < capacity) {
        for (auto* array : {&v, &nd, &rate, &given_p, &p, &y}) array->resize(capacity);
        slot.resize(capacity);
    }
    thread_local InversionDraws inversions;
    inversions.clear();
    std::size_t m = 0;
    for (int j = 0; j < count; ++j) {
        const BinomialRequest& r = requests[j];
        switch (regime_with_rate(r.n, r.rate)) {
            case Regime::zero:
                out[j] = 0;
                break;
            case Regime::inversion:
                inversions.add(r.rng, r.n, r.rate, r.rng->uniform(), &out[j]);
                break;
            case Regime::flipped:
                out[j] = binomial(*r.rng, r.n, r.p > 0.0 ? r.p : probability_of_rate(r.rate));  // rare: scalar
                break;
            case Regime::btrd:
                slot[m] = j;
                v[m] = r.rng->uniform();
                nd[m] = static_cast<double>(r.n);
                rate[m] = r.rate;
                given_p[m] = r.p;
                ++m;
                break;
        }
    }
    inversions.run();
    btrd_fast_acceptance(m, v.data(), nd.data(), rate.data(), given_p.data(), p.data(), y.data());
    thread_local BtrdRejections rejections;
    rejections.clear();
    for (std::size_t k = 0; k < m; ++k) {
        const BinomialRequest& r = requests[slot[k]];
        if (y[k] >= 0.0) {
            out[slot[k]] = static_cast<std::int64_t>(y[k]);
        } else {
            rejections.add(r.rng, r.n, p[k], v[k], &out[slot[k]]);
        }
    }
    rejections.run();
}

std::int64_t draw_binomial(const BinomialRequest& request) {
    std::int64_t drawn = 0;
    draw_binomials(&request, 1, &drawn);
    return drawn;
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
