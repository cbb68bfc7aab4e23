#include "sgnn/sim/random.hpp"
#include "stats.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace sgnn::sim;

namespace {

double log_binomial_pmf(std::int64_t n, double p, std::int64_t k) {
    return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * std::log(p) +
           (n - k) * std::log1p(-p);
}

}  // namespace

TEST_CASE("a stream is a pure function of (seed, purpose, index)", "[random]") {
    SampleStream a(7, Purpose::train, 123), b(7, Purpose::train, 123);
    for (int i = 0; i < 100; ++i) REQUIRE(a.next_u64() == b.next_u64());
    SampleStream c(7, Purpose::eval, 123), d(7, Purpose::train, 124), e(8, Purpose::train, 123);
    SampleStream f(7, Purpose::train, 123);
    const auto first = f.next_u64();
    CHECK(c.next_u64() != first);
    CHECK(d.next_u64() != first);
    CHECK(e.next_u64() != first);
}

TEST_CASE("uniform draws stay strictly inside (0, 1) with mean 1/2", "[random]") {
    SampleStream rng(1, Purpose::test, 0);
    const int n = 200000;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
        const double u = rng.uniform();
        REQUIRE(u > 0.0);
        REQUIRE(u < 1.0);
        sum += u;
    }
    // Standard error of the mean of U(0,1): sqrt(1/12/n); allow 4 standard errors.
    CHECK(std::fabs(sum / n - 0.5) < 4.0 * std::sqrt(1.0 / 12.0 / n));
}

TEST_CASE("binomial sampler fits the exact pmf in every regime", "[random][binomial]") {
    struct Case {
        std::int64_t n;
        double p;
    };
    // Inversion (n p < 10), BTRD (n p >= 10), p > 1/2 by symmetry, and n up to 1e7.
    const Case cases[] = {{20, 0.3},        {1000, 0.004},   {100, 0.5},       {50, 0.97},
                          {10000000, 1e-6}, {10000000, 0.3}, {1000000, 0.999}, {200, 0.06}};
    for (const auto& c : cases) {
        SampleStream rng(42, Purpose::test, static_cast<std::uint64_t>(c.n) ^ static_cast<std::uint64_t>(c.p * 1e9));
        const int draws_n = 40000;
        std::vector<std::int64_t> draws(draws_n);
        for (auto& x : draws) {
            x = binomial(rng, c.n, c.p);
            REQUIRE(x >= 0);
            REQUIRE(x <= c.n);
        }
        const double mean = c.n * c.p, sd = std::sqrt(c.n * c.p * (1 - c.p));
        const auto lo = static_cast<std::int64_t>(std::max(0.0, std::floor(mean - 8 * sd - 2)));
        const auto hi = static_cast<std::int64_t>(std::min<double>(c.n, std::ceil(mean + 8 * sd + 2)));
        const auto fit = sgnn::test::chi_square_test(
            draws, [&](std::int64_t k) { return std::exp(log_binomial_pmf(c.n, c.p, k)); }, lo, hi);
        INFO("n = " << c.n << ", p = " << c.p << ", chi2 = " << fit.statistic << " on " << fit.dof << " dof");
        CHECK(fit.statistic < fit.critical);
    }
}

TEST_CASE("binomial with a rate fits the exact pmf in every regime, drawn alone or in blocks", "[random][binomial]") {
    struct Case {
        std::int64_t n;
        double rate;  // p = 1 - exp(-rate)
    };
    // The zero shortcut and inversion (n rate < 20), BTRD, p > 1/2, and n up to 1e7.
    const Case cases[] = {{100000, 2e-6}, {40, 0.02}, {1000, 0.015},   {100000, 2.5e-4},
                          {3000, 0.18},   {100, 1.2}, {10000000, 0.3}, {10000000, 2e-7}};
    for (const auto& c : cases) {
        const double p = -std::expm1(-c.rate);
        const int draws_n = 40000, block = 32;
        // Block draws: 32 streams, each drawing once per call, as the SIR block does.
        std::vector<SampleStream> streams, copies;
        for (int j = 0; j < block; ++j) {
            streams.emplace_back(43, Purpose::test, static_cast<std::uint64_t>(j) + static_cast<std::uint64_t>(c.n));
        }
        copies = streams;
        std::vector<BinomialRequest> requests(block);
        std::vector<std::int64_t> out(block), draws;
        bool same_bits = true;
        for (int call = 0; call < draws_n / block; ++call) {
            for (int j = 0; j < block; ++j) {
                requests[j] = {&streams[j], c.n, c.rate, j % 2 ? probability_of_rate(c.rate) : 0.0};
            }
            draw_binomials(requests.data(), block, out.data());
            for (int j = 0; j < block; ++j) {
                same_bits &= out[j] == binomial_with_rate(copies[j], c.n, c.rate);
                REQUIRE(out[j] >= 0);
                REQUIRE(out[j] <= c.n);
                draws.push_back(out[j]);
            }
        }
        INFO("n = " << c.n << ", rate = " << c.rate);
        CHECK(same_bits);  // a block draws exactly what single draws would
        const double mean = c.n * p, sd = std::sqrt(c.n * p * (1 - p));
        const auto lo = static_cast<std::int64_t>(std::max(0.0, std::floor(mean - 8 * sd - 2)));
        const auto hi = static_cast<std::int64_t>(std::min<double>(c.n, std::ceil(mean + 8 * sd + 2)));
        const auto fit = sgnn::test::chi_square_test(
            draws, [&](std::int64_t k) { return std::exp(log_binomial_pmf(c.n, p, k)); }, lo, hi);
        INFO("chi2 = " << fit.statistic << " on " << fit.dof << " dof");
        CHECK(fit.statistic < fit.critical);
    }
}

TEST_CASE("binomial draws have the same bits on every CPU and build", "[random][binomial]") {
    // A hash of 44,100 block draws across the regimes (zero, inversion and its scalar
    // tail, BTRD's fast path, rejection rounds and exact test, caller-given p). The
    // vectorized kernels are compiled for AVX-512, AVX2 and baseline x86-64 and picked
    // by the CPU; all of them, and -O2 or -march=native builds, gave this value. A
    // different value means a cluster with mixed CPUs would no longer reproduce runs.
    const std::int64_t sizes[] = {1, 7, 30, 100, 1000, 20000, 100000, 3000000, 10000000};
    const double rates[] = {1e-7, 1e-4, 0.003, 0.02, 0.1, 0.3, 0.69};
    std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
    for (const std::int64_t n : sizes) {
        for (const double rate : rates) {
            for (const bool given : {false, true}) {
                std::vector<SampleStream> streams;
                for (int j = 0; j < 64; ++j)
                    streams.emplace_back(42, Purpose::test, static_cast<std::uint64_t>(n * 131 + j));
                std::vector<BinomialRequest> requests;
                for (auto& stream : streams) requests.push_back({&stream, n, rate, given ? 0.25 * rate : 0.0});
                std::vector<std::int64_t> out(64);
                for (int call = 0; call < 50; ++call) {
                    draw_binomials(requests.data(), 64, out.data());
                    for (const auto x : out) hash = (hash ^ static_cast<std::uint64_t>(x)) * 1099511628211ULL;
                }
            }
        }
    }
    CHECK(hash == 0xb886ef2b6a42ccb8ULL);
}

TEST_CASE("probability_of_rate is 1 - exp(-rate) to a few ulps", "[random]") {
    double worst = 0.0;
    for (double rate = 1e-12; rate < 40.0; rate *= 1.01) {
        const double exact = -std::expm1(-rate);
        worst = std::max(worst, std::fabs(probability_of_rate(rate) - exact) / exact);
    }
    INFO("worst relative error " << worst);
    CHECK(worst < 4e-16);
    CHECK(probability_of_rate(0.0) == 0.0);
    CHECK(probability_of_rate(1e6) == 1.0);
}

TEST_CASE("binomial edge cases", "[random][binomial]") {
    SampleStream rng(1, Purpose::test, 5);
    CHECK(binomial(rng, 0, 0.5) == 0);
    CHECK(binomial(rng, 100, 0.0) == 0);
    CHECK(binomial(rng, 100, 1.0) == 100);
}

TEST_CASE("poisson sampler fits the exact pmf for small and large means", "[random][poisson]") {
    for (double mean : {0.7, 3.0, 9.9, 10.0, 45.0, 20000.0}) {
        SampleStream rng(3, Purpose::test, static_cast<std::uint64_t>(mean * 1000));
        std::vector<std::int64_t> draws(40000);
        for (auto& x : draws) x = poisson(rng, mean);
        const double sd = std::sqrt(mean);
        const auto lo = static_cast<std::int64_t>(std::max(0.0, std::floor(mean - 8 * sd - 2)));
        const auto hi = static_cast<std::int64_t>(std::ceil(mean + 8 * sd + 5));
        const auto fit = sgnn::test::chi_square_test(
            draws, [&](std::int64_t k) { return std::exp(k * std::log(mean) - mean - std::lgamma(k + 1.0)); }, lo, hi);
        INFO("mean = " << mean << ", chi2 = " << fit.statistic << " on " << fit.dof << " dof");
        CHECK(fit.statistic < fit.critical);
    }
}

TEST_CASE("negative binomial has the NB pmf with variance m + m^2/k", "[random][negbin]") {
    struct Case {
        double mean, k;
    };
    for (const auto& c : {Case{5.0, 2.0}, Case{50.0, 10.0}, Case{400.0, 0.8}}) {
        SampleStream rng(9, Purpose::test, static_cast<std::uint64_t>(c.mean * 100 + c.k));
        std::vector<std::int64_t> draws(40000);
        for (auto& x : draws) x = negative_binomial(rng, c.mean, c.k);
        const double q = c.k / (c.k + c.mean);
        const auto pmf = [&](std::int64_t x) {
            return std::exp(std::lgamma(x + c.k) - std::lgamma(c.k) - std::lgamma(x + 1.0) + c.k * std::log(q) +
                            x * std::log1p(-q));
        };
        const double var = c.mean + c.mean * c.mean / c.k;
        const auto hi = static_cast<std::int64_t>(c.mean + 30 * std::sqrt(var) + 10);
        const auto fit = sgnn::test::chi_square_test(draws, pmf, 0, hi);
        INFO("mean = " << c.mean << ", k = " << c.k << ", chi2 = " << fit.statistic << " on " << fit.dof << " dof");
        CHECK(fit.statistic < fit.critical);
    }
}

TEST_CASE("gamma sampler has the right mean and variance", "[random][gamma]") {
    for (double shape : {0.3, 1.0, 7.5}) {
        SampleStream rng(11, Purpose::test, static_cast<std::uint64_t>(shape * 10));
        const int n = 100000;
        double sum = 0, sum_sq = 0;
        for (int i = 0; i < n; ++i) {
            const double x = gamma(rng, shape, 2.0);
            sum += x;
            sum_sq += x * x;
        }
        const double mean = sum / n, var = sum_sq / n - mean * mean;
        // Mean 2 shape, variance 4 shape; standard error of the mean sqrt(4 shape / n).
        CHECK(std::fabs(mean - 2 * shape) < 5 * std::sqrt(4 * shape / n));
        CHECK(var == Approx(4 * shape).epsilon(0.1));
    }
}
