#include "sgnn/analysis/logistic_posterior.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sgnn::analysis {
namespace {

struct Box {
    double lr0, lr1, lk0, lk1;  // log r and log K bounds
};

// One midpoint-rule pass: log p(y | r, K) up to a constant, the Gaussian log-density
// of log y around log N (logistic_solution written out, so that exp(-r t) is computed
// once per r), on the lattice, row-major (r, then K).
std::vector<double> pass(const LogisticPosteriorSetup& s, const std::vector<double>& log_y, const Box& box) {
    const int n = s.grid;
    const auto days = static_cast<std::size_t>(s.days);
    std::vector<double> ll(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
    std::vector<double> decay(days);
    for (int i = 0; i < n; ++i) {
        const double r = std::exp(box.lr0 + (box.lr1 - box.lr0) * (i + 0.5) / n);
        for (std::size_t t = 0; t < days; ++t) decay[t] = std::exp(-r * static_cast<double>(t));
        for (int j = 0; j < n; ++j) {
            const double log_k = box.lk0 + (box.lk1 - box.lk0) * (j + 0.5) / n;
            const double a = std::exp(log_k) / s.initial_size - 1.0;
            double sum = 0.0;
            for (std::size_t t = 0; t < days; ++t) {
                const double e = log_y[t] - (log_k - std::log1p(a * decay[t]));
                sum += e * e;
            }
            ll[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] =
                -0.5 * sum / (s.sdlog * s.sdlog);
        }
    }
    return ll;
}

}  // namespace

LogisticPosterior logistic_posterior(const LogisticPosteriorSetup& s, const double* y) {
    std::vector<double> log_y(static_cast<std::size_t>(s.days));
    for (int t = 0; t < s.days; ++t) log_y[static_cast<std::size_t>(t)] = std::log(y[t]);
    const int n = s.grid;
    const Box prior{std::log(s.r_low), std::log(s.r_high), std::log(s.k_low), std::log(s.k_high)};
    // Pass 1 over the prior's box finds where the mass is: every cell within e^-30 of
    // the maximum (the rest weighs less than 1e-13 of the total), plus a cell around.
    const std::vector<double> coarse = pass(s, log_y, prior);
    const double top = *std::max_element(coarse.begin(), coarse.end());
    int i0 = n, i1 = -1, j0 = n, j1 = -1;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            if (coarse[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] <
                top - 30.0) {
                continue;
            }
            i0 = std::min(i0, i), i1 = std::max(i1, i), j0 = std::min(j0, j), j1 = std::max(j1, j);
        }
    }
    const auto edge = [n](const double lo, const double hi, int cell) { return lo + (hi - lo) * cell / n; };
    const Box box{edge(prior.lr0, prior.lr1, std::max(0, i0 - 1)), edge(prior.lr0, prior.lr1, std::min(n, i1 + 2)),
                  edge(prior.lk0, prior.lk1, std::max(0, j0 - 1)), edge(prior.lk0, prior.lk1, std::min(n, j1 + 2))};
    // Pass 2 on that box: the prior is uniform in (log r, log K), so the weights are
    // the likelihood.
    const std::vector<double> fine = pass(s, log_y, box);
    const double peak = *std::max_element(fine.begin(), fine.end());
    LogisticPosterior post;
    post.k_values.resize(static_cast<std::size_t>(n));
    post.k_weights.assign(static_cast<std::size_t>(n), 0.0);
    for (int j = 0; j < n; ++j) {
        post.k_values[static_cast<std::size_t>(j)] = std::exp(box.lk0 + (box.lk1 - box.lk0) * (j + 0.5) / n);
    }
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            const double w = std::exp(
                fine[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)] - peak);
            post.k_weights[static_cast<std::size_t>(j)] += w;
            total += w;
        }
    }
    double m1 = 0.0, m2 = 0.0;
    for (int j = 0; j < n; ++j) {
        double& w = post.k_weights[static_cast<std::size_t>(j)];
        w /= total;
        m1 += w * post.k_values[static_cast<std::size_t>(j)];
        m2 += w * post.k_values[static_cast<std::size_t>(j)] * post.k_values[static_cast<std::size_t>(j)];
    }
    post.mean_k = m1;
    post.sd_k = std::sqrt(std::max(0.0, m2 - m1 * m1));
    return post;
}

}  // namespace sgnn::analysis
