// The exact posterior of logistic growth seen through log-normal noise, by quadrature:
// the reference a simulation-grounded network's prediction converges to (the
// posterior-mean experiment).
//
//   N(t) = K / (1 + (K / N0 - 1) exp(-r t)),  t = 0, 1, ..., days - 1
//   y_t  = N(t) exp(sdlog e_t),  e_t ~ Normal(0, 1)
//
// with r and K log-uniform and N0, sdlog known: the posterior over (log r, log K) is the
// likelihood on a box, integrated with the midpoint rule on a grid x grid lattice,
// then again on a lattice fitted to where the posterior mass is (so that a sharp
// posterior still gets grid x grid points).
#pragma once

#include <vector>

namespace sgnn::analysis {

struct LogisticPosteriorSetup {
    double r_low = 0.1, r_high = 0.5;  // log-uniform prior on the growth rate r
    double k_low = 1e3, k_high = 1e4;  // log-uniform prior on the carrying capacity K
    double initial_size = 20.0;        // N0, known
    double sdlog = 0.1;                // noise, known
    int days = 20;
    int grid = 200;  // points per axis per pass
};

struct LogisticPosterior {
    double mean_k = 0.0, sd_k = 0.0;
    std::vector<double> k_values;   // the second pass's K lattice
    std::vector<double> k_weights;  // the posterior marginal of K on it (sums to 1)
};

// `y` holds the days observations (positive).
LogisticPosterior logistic_posterior(const LogisticPosteriorSetup& setup, const double* y);

}  // namespace sgnn::analysis
