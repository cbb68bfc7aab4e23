// A two-feature classifier for model selection between two mechanisms: logistic
// regression on a full quadratic in two summary features of a series (for epidemics:
// the peak day and the log of the total count). It shows how much of a model-selection
// task is solved by coarse summaries alone, which a fair comparison must report
// (docs/notes/model-selection-design.md).
#pragma once

#include "sgnn/analysis/logistic_regression.hpp"

#include <array>
#include <vector>

namespace sgnn::analysis {

// (day of the maximum, counted from 1; log(1 + sum of the series)).
std::array<double, 2> peak_and_log_total(const double* series, int days);

class QuadraticLogistic {
public:
    // Maximum likelihood by Newton's method (a tiny ridge keeps separable data finite);
    // features n x 2, labels 0/1.
    void fit(const std::vector<std::array<double, 2>>& features, const std::vector<int>& labels);
    double probability(const std::array<double, 2>& feature) const;  // P(label 1)

private:
    LogisticRegression regression_;
};

}  // namespace sgnn::analysis
