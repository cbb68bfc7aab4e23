// Percentile bootstrap confidence intervals over test series. Statistics that compare
// methods resample the same series for all of them (paired), so the interval of a
// difference or a ratio reflects the comparison, not each method's own noise.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace sgnn::analysis {

struct Interval {
    double estimate = 0.0;  // the statistic on the series as they are
    double low = 0.0;       // 2.5% and 97.5% percentiles over resamples
    double high = 0.0;
};

// `statistic` maps a multiset of series (indices into 0..n-1, repeats allowed) to a
// number. Resample b draws from the Philox stream (seed, purpose `test`) at counter b,
// so intervals are reproducible.
Interval bootstrap(std::size_t n, int resamples, std::uint64_t seed,
                   const std::function<double(const std::vector<std::size_t>&)>& statistic);

// The q-quantile (0 <= q <= 1) of values sorted ascending, linear between order
// statistics (numpy's default); `sorted` must not be empty.
double quantile_of_sorted(const std::vector<double>& sorted, double q);

// The mean of values[i] over the indices: the statistic most intervals need.
double mean_over(const std::vector<double>& values, const std::vector<std::size_t>& indices);

}  // namespace sgnn::analysis
