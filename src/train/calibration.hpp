// Simulation-based calibration (Talts et al. 2018) of a posterior density head, on
// held-out samples whose true parameters are known. Private to the train module.
//
// For each held-out sample and target, the truth's rank among L posterior draws,
// randomized into a probability integral transform PIT = (rank + U) / (L + 1), U
// uniform on (0, 1): when the draws come from the posterior the truth was drawn from,
// PIT is exactly uniform on (0, 1) (the randomization removes the discreteness of
// ranks). Its histogram in kPitBins equal bins gives
//   - the empirical coverage of central credible intervals: the share of PIT values in
//     [0.5 - a/2, 0.5 + a/2] is the share of truths inside the central a-interval of
//     their posterior draws; the levels a are bin edges, so the count is exact;
//   - a chi-square test of uniformity (kPitBins - 1 degrees of freedom).
// Histograms are counts, so they add up over trainers in the evaluation's reduction.
#pragma once

#include "sgnn/comm/protocol.hpp"

#include <torch/torch.h>

#include <array>

namespace sgnn::train::calibration {

inline constexpr int kBins = comm::kPitBins;
inline constexpr const std::array<double, comm::kCoverageLevels>& kLevels = comm::kCredibleLevels;

// PIT of each truth among its draws: draws rows x L x D, truths rows x D (the same
// transformed scale; any increasing map of both leaves ranks unchanged). Rows x D,
// double; U comes from `generator`.
torch::Tensor pit(const torch::Tensor& draws, const torch::Tensor& truths, at::Generator& generator);

// Counts of PIT values per bin, D x kBins, double.
torch::Tensor histogram(const torch::Tensor& pit);

struct Summary {
    double count = 0.0;
    std::array<double, comm::kCoverageLevels> coverage{};  // at kLevels
    double chi_square = 0.0;
    double p_value = 1.0;  // of uniformity
};

// One target's summary from its kBins counts.
Summary summarize(const double* counts);

}  // namespace sgnn::train::calibration
