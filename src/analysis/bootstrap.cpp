#include "sgnn/analysis/bootstrap.hpp"

#include "sgnn/sim/random.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sgnn::analysis {

double mean_over(const std::vector<double>& values, const std::vector<std::size_t>& indices) {
    double sum = 0.0;
    for (std::size_t i : indices) sum += values[i];
    return indices.empty() ? 0.0 : sum / static_cast<double>(indices.size());
}

Interval bootstrap(std::size_t n, int resamples, std::uint64_t seed,
                   const std::function<double(const std::vector<std::size_t>&)>& statistic) {
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), std::size_t{0});
    Interval interval;
    interval.estimate = statistic(all);
    std::vector<double> values;
    std::vector<std::size_t> draw(n);
    for (int b = 0; b < resamples; ++b) {
        sim::SampleStream rng(seed, sim::Purpose::test, static_cast<std::uint64_t>(b));
        for (std::size_t& i : draw)
            i = static_cast<std::size_t>((static_cast<unsigned __int128>(rng.next_u64()) * n) >> 64);
        const double v = statistic(draw);
        if (std::isfinite(v)) values.push_back(v);
    }
    if (values.empty()) {
        interval.low = interval.high = interval.estimate;
        return interval;
    }
    std::sort(values.begin(), values.end());
    interval.low = quantile_of_sorted(values, 0.025);
    interval.high = quantile_of_sorted(values, 0.975);
    return interval;
}

double quantile_of_sorted(const std::vector<double>& sorted, double q) {
    const double position = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(position);
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - static_cast<double>(lo));
}

}  // namespace sgnn::analysis
