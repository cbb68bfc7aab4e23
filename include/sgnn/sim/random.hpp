// Counter-based random streams and the samplers the simulators need.
//
// Every random draw in sgnn comes from a SampleStream keyed by (seed, purpose) with
// the global sample index as counter. Sample i therefore has the same bits whichever
// rank, thread or batch produces it, and the `train`, `eval` and `norm` purposes can
// never collide. The stream is header-only so that the day loops of simulators inline
// its draws.
#pragma once

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>

namespace sgnn::sim {

// Separate key spaces for the different uses of simulated samples.
// shuffle: the epoch permutations of a corpus (`sgnn train --data`), counter = epoch.
enum class Purpose : std::uint64_t { train = 1, eval = 2, norm = 3, bank = 4, test = 5, shuffle = 6, baseline = 7 };

class SampleStream {
public:
    SampleStream(std::uint64_t seed, Purpose purpose, std::uint64_t sample_index)
        : key_{{seed, static_cast<std::uint64_t>(purpose)}}, counter_{{sample_index, 0, 0, 0}} {}

    std::uint64_t next_u64() {
        if (used_ == 4) {
            block_ = philox_(counter_, key_);
            ++counter_.v[1];
            used_ = 0;
        }
        return block_.v[used_++];
    }

    // Uniform on the open interval (0, 1): 53 random bits, offset by half a step so
    // that neither 0 nor 1 can occur and log() is always finite.
    double uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1p-53; }

    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double radius = std::sqrt(-2.0 * std::log(uniform()));
        const double angle = 2.0 * M_PI * uniform();
        spare_ = radius * std::sin(angle);
        has_spare_ = true;
        return radius * std::cos(angle);
    }

    double exponential() { return -std::log(uniform()); }

private:
    using Philox = r123::Philox4x64;
    Philox philox_;
    Philox::key_type key_;
    Philox::ctr_type counter_;
    Philox::ctr_type block_{};
    int used_ = 4;
    double spare_ = 0.0;
    bool has_spare_ = false;
};

// Samplers. Each is exact (no normal approximations) and chooses its algorithm by
// regime: inversion where the mean is small, Hörmann's transformed rejection
// (BTRD for the binomial, PTRS for the Poisson) where it is large.
std::int64_t binomial(SampleStream& rng, std::int64_t n, double p);
// Binomial(n, 1 - exp(-rate)): the chance that an event of the given rate happens
// within one time unit, as in chain-binomial models. Cheaper than computing p first.
std::int64_t binomial_with_rate(SampleStream& rng, std::int64_t n, double rate);

// 1 - exp(-rate), the chance that an event of this rate happens within one time unit.
// Computed without libm (whose results glibc picks by CPU), so it has the same bits
// on every machine; pass it as BinomialRequest::p.
double probability_of_rate(double rate);

// One draw of a block: Binomial(n, 1 - exp(-rate)) from *rng, as binomial_with_rate.
// p may hold probability_of_rate(rate) when the caller has it (a constant rate); 0
// otherwise.
struct BinomialRequest {
    SampleStream* rng;
    std::int64_t n;
    double rate;
    double p = 0.0;
};
// One request alone (what draw_binomials does for each of a block).
std::int64_t draw_binomial(const BinomialRequest& request);
// Draws every request of a block (each stream at most once per call) with the same
// bits as binomial_with_rate() one request at a time, on any CPU. The draws run as
// vectorized loops over the block: inversion's set-up and first steps, BTRD's fast
// acceptance (50-77% of its draws), and BTRD's rejection rounds for the rest, with
// AVX-512 or AVX2 where the CPU has them (see docs/performance.md).
void draw_binomials(const BinomialRequest* requests, int count, std::int64_t* out);
std::int64_t poisson(SampleStream& rng, double mean);
double gamma(SampleStream& rng, double shape, double scale);
// Negative binomial with the given mean and dispersion k: variance = mean + mean^2/k.
std::int64_t negative_binomial(SampleStream& rng, double mean, double dispersion);

}  // namespace sgnn::sim
