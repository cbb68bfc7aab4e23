#include "sgnn/analysis/feature_classifier.hpp"

#include <cmath>

namespace sgnn::analysis {

std::array<double, 2> peak_and_log_total(const double* series, int days) {
    int peak = 0;
    double total = 0.0;
    for (int d = 0; d < days; ++d) {
        total += series[d];
        if (series[d] > series[peak]) peak = d;
    }
    return {static_cast<double>(peak + 1), std::log1p(total)};
}

namespace {

// The full quadratic in two features (the regression standardizes them).
std::vector<double> quadratic(const std::array<double, 2>& f) {
    return {f[0], f[1], f[0] * f[0], f[1] * f[1], f[0] * f[1]};
}

}  // namespace

void QuadraticLogistic::fit(const std::vector<std::array<double, 2>>& features, const std::vector<int>& labels) {
    std::vector<std::vector<double>> rows;
    rows.reserve(features.size());
    for (const auto& f : features) rows.push_back(quadratic(f));
    regression_.fit(rows, labels);
}

double QuadraticLogistic::probability(const std::array<double, 2>& feature) const {
    return regression_.probability(quadratic(feature));
}

}  // namespace sgnn::analysis
