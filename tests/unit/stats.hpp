// Helpers for the statistical tests: chi-square goodness of fit against an exact pmf.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

namespace sgnn::test {

// Upper quantile of the chi-square distribution (Wilson-Hilferty), z = normal quantile.
inline double chi_square_quantile(int dof, double z) {
    const double k = dof;
    const double a = 2.0 / (9.0 * k);
    return k * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

struct GoodnessOfFit {
    double statistic = 0.0;
    int dof = 0;
    double critical = 0.0;  // at the 0.1% level (z = 3.09)
};

// Bins every value whose expected count is >= 5 on its own and lumps both tails, so
// each bin meets the usual chi-square validity rule.
inline GoodnessOfFit chi_square_test(const std::vector<std::int64_t>& draws,
                                     const std::function<double(std::int64_t)>& pmf, std::int64_t lo, std::int64_t hi) {
    const double n = static_cast<double>(draws.size());
    std::map<std::int64_t, double> observed;
    for (auto x : draws) observed[x] += 1.0;
    // Bins: [lo..a] lumped, a+1..b-1 single, [b..hi] lumped, with a,b where expected counts reach 5.
    std::vector<std::pair<double, double>> bins;  // (expected, observed)
    double lumped_e = 0, lumped_o = 0;
    for (std::int64_t x = lo; x <= hi; ++x) {
        lumped_e += n * pmf(x);
        lumped_o += observed.count(x) ? observed[x] : 0.0;
        if (lumped_e >= 5.0) {
            bins.push_back({lumped_e, lumped_o});
            lumped_e = lumped_o = 0;
        }
    }
    if (!bins.empty()) {
        bins.back().first += lumped_e;
        bins.back().second += lumped_o;
    }
    GoodnessOfFit result;
    for (const auto& [e, o] : bins) result.statistic += (o - e) * (o - e) / e;
    result.dof = static_cast<int>(bins.size()) - 1;
    result.critical = chi_square_quantile(result.dof, 3.09);
    return result;
}

}  // namespace sgnn::test
