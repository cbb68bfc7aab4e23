#include "calibration.hpp"

#include <boost/math/special_functions/gamma.hpp>

#include <cmath>

namespace sgnn::train::calibration {

static_assert(kBins % 40 == 0, "the coverage levels 50, 80, 90, 95% must fall on bin edges");

torch::Tensor pit(const torch::Tensor& draws, const torch::Tensor& truths, at::Generator& generator) {
    const std::int64_t draws_per_row = draws.size(1);
    const torch::Tensor rank = (draws < truths.unsqueeze(1)).sum(1).to(torch::kCPU, torch::kDouble);
    const torch::Tensor u = torch::rand(rank.sizes(), generator, torch::kDouble);
    return (rank + u) / static_cast<double>(draws_per_row + 1);
}

torch::Tensor histogram(const torch::Tensor& pit) {
    const torch::Tensor bin = (pit * kBins).floor().clamp(0, kBins - 1).to(torch::kLong);  // rows x D
    const std::int64_t targets = pit.size(1);
    const torch::Tensor cell = bin + torch::arange(targets, torch::kLong).unsqueeze(0) * kBins;
    return torch::bincount(cell.flatten(), {}, targets * kBins).to(torch::kDouble).view({targets, kBins});
}

Summary summarize(const double* counts) {
    Summary s;
    for (int b = 0; b < kBins; ++b) s.count += counts[b];
    if (!(s.count > 0)) return s;
    for (std::size_t level = 0; level < kLevels.size(); ++level) {
        // Bins [0.5 - a/2, 0.5 + a/2) of width 1 / kBins.
        const int first = static_cast<int>(std::lround((0.5 - kLevels[level] / 2) * kBins));
        const int last = static_cast<int>(std::lround((0.5 + kLevels[level] / 2) * kBins));
        double inside = 0.0;
        for (int b = first; b < last; ++b) inside += counts[b];
        s.coverage[level] = inside / s.count;
    }
    const double expected = s.count / kBins;
    for (int b = 0; b < kBins; ++b) s.chi_square += (counts[b] - expected) * (counts[b] - expected) / expected;
    s.p_value = boost::math::gamma_q(0.5 * (kBins - 1), 0.5 * s.chi_square);
    return s;
}

}  // namespace sgnn::train::calibration
