#include "sgnn/analysis/logistic_regression.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sgnn::analysis {
namespace {

// Solves a x = b for a symmetric positive definite a (Cholesky, in place).
void solve_spd(std::vector<double>& a, std::vector<double>& b, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j) {
        double d = a[j * m + j];
        for (std::size_t k = 0; k < j; ++k) d -= a[j * m + k] * a[j * m + k];
        d = std::sqrt(std::max(d, 1e-300));
        a[j * m + j] = d;
        for (std::size_t i = j + 1; i < m; ++i) {
            double s = a[i * m + j];
            for (std::size_t k = 0; k < j; ++k) s -= a[i * m + k] * a[j * m + k];
            a[i * m + j] = s / d;
        }
    }
    for (std::size_t i = 0; i < m; ++i) {
        double s = b[i];
        for (std::size_t k = 0; k < i; ++k) s -= a[i * m + k] * b[k];
        b[i] = s / a[i * m + i];
    }
    for (std::size_t i = m; i-- > 0;) {
        double s = b[i];
        for (std::size_t k = i + 1; k < m; ++k) s -= a[k * m + i] * b[k];
        b[i] = s / a[i * m + i];
    }
}

}  // namespace

void LogisticRegression::fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels,
                             double ridge) {
    const std::size_t n = rows.size();
    if (n == 0 || labels.size() != n) throw std::invalid_argument("LogisticRegression::fit: no data");
    const std::size_t d = rows[0].size(), m = d + 1;
    mean_.assign(d, 0.0);
    scale_.assign(d, 0.0);
    for (const auto& r : rows) {
        for (std::size_t k = 0; k < d; ++k) mean_[k] += r[k] / static_cast<double>(n);
    }
    for (const auto& r : rows) {
        for (std::size_t k = 0; k < d; ++k) scale_[k] += (r[k] - mean_[k]) * (r[k] - mean_[k]) / static_cast<double>(n);
    }
    for (double& s : scale_) s = std::max(std::sqrt(s), 1e-12);
    std::vector<std::vector<double>> z(n, std::vector<double>(m, 1.0));
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < d; ++k) z[i][k + 1] = (rows[i][k] - mean_[k]) / scale_[k];
    }
    weights_.assign(m, 0.0);
    // A tiny floor keeps the intercept's curvature positive on separable data.
    const double penalty = std::max(ridge, 1e-9) * static_cast<double>(n);
    std::vector<double> hessian(m * m), gradient(m);
    for (int iteration = 0; iteration < 100; ++iteration) {
        std::fill(hessian.begin(), hessian.end(), 0.0);
        std::fill(gradient.begin(), gradient.end(), 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            double t = 0.0;
            for (std::size_t a = 0; a < m; ++a) t += weights_[a] * z[i][a];
            const double p = 1.0 / (1.0 + std::exp(-t)), w = std::max(p * (1.0 - p), 1e-12);
            for (std::size_t a = 0; a < m; ++a) {
                gradient[a] += (labels[i] - p) * z[i][a];
                const double wa = w * z[i][a];
                for (std::size_t b = 0; b <= a; ++b) hessian[a * m + b] += wa * z[i][b];
            }
        }
        for (std::size_t a = 0; a < m; ++a) {
            for (std::size_t b = 0; b < a; ++b) hessian[b * m + a] = hessian[a * m + b];
            const double pa = a == 0 ? 1e-9 * static_cast<double>(n) : penalty;
            gradient[a] -= pa * weights_[a];
            hessian[a * m + a] += pa;
        }
        solve_spd(hessian, gradient, m);
        double largest = 0.0;
        for (std::size_t a = 0; a < m; ++a) {
            weights_[a] += gradient[a];
            largest = std::max(largest, std::fabs(gradient[a]));
        }
        if (largest < 1e-10) break;
    }
}

double LogisticRegression::probability(const std::vector<double>& row) const {
    double t = weights_[0];
    for (std::size_t k = 0; k < mean_.size(); ++k) t += weights_[k + 1] * (row[k] - mean_[k]) / scale_[k];
    return 1.0 / (1.0 + std::exp(-t));
}

}  // namespace sgnn::analysis
