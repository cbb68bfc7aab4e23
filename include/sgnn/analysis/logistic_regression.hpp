// Logistic regression by Newton's method on standardized features with a ridge
// penalty: the classifier of the two-feature baseline (feature_classifier.hpp) and of
// the classifier two-sample test that bounds the total-variation distance between a
// training and a test distribution (the mismatch experiment).
#pragma once

#include <vector>

namespace sgnn::analysis {

class LogisticRegression {
public:
    // rows: n feature vectors of equal length; labels 0/1. The penalty is
    // ridge * n * |w|^2 / 2 on the standardized weights (not the intercept).
    void fit(const std::vector<std::vector<double>>& rows, const std::vector<int>& labels, double ridge = 1e-6);
    double probability(const std::vector<double>& row) const;  // P(label 1)

private:
    std::vector<double> mean_, scale_, weights_;  // weights_[0]: intercept
};

}  // namespace sgnn::analysis
