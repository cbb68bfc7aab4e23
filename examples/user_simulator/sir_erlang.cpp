#include "sir_erlang.hpp"

#include <sgnn/sim/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace example {

std::vector<std::string> SirErlang::parameters() const {
    return {"R0", "infectious_period", "population", "initial_infected"};
}

void SirErlang::simulate(const double* p, int days, sgnn::sim::SampleStream& rng, double* incidence) const {
    const double r0 = p[0], period = p[1];
    const auto n = static_cast<std::int64_t>(std::llround(p[2]));
    if (!(period > 0.0)) throw std::invalid_argument("infectious_period must be positive");
    // Two stages of mean period/2 each: the mean stays `period`, so beta = R0 / period.
    const double beta = r0 / period, stage_rate = 2.0 / period;
    std::int64_t stage1 = std::min(n, static_cast<std::int64_t>(std::llround(p[3]))), stage2 = 0;
    std::int64_t susceptible = n - stage1;
    for (int day = 0; day < days; ++day) {
        // Every draw comes from `rng`, so a sample is a function of (seed, index) only.
        const double pressure = beta * static_cast<double>(stage1 + stage2) / static_cast<double>(n);
        const std::int64_t infected = sgnn::sim::binomial_with_rate(rng, susceptible, pressure);
        const std::int64_t progressed = sgnn::sim::binomial_with_rate(rng, stage1, stage_rate);
        const std::int64_t recovered = sgnn::sim::binomial_with_rate(rng, stage2, stage_rate);
        susceptible -= infected;
        stage1 += infected - progressed;
        stage2 += progressed - recovered;
        incidence[day] = static_cast<double>(infected);
    }
}

void SirErlang::compute_derived(const double* p, const double*, int, double* out) const { out[0] = p[0] / p[1]; }

}  // namespace example
