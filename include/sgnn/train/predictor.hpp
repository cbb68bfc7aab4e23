// A trained network read back from model.h5, for predictions outside training
// (experiments, attribution). LibTorch stays behind this interface (pimpl).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::train {

class Predictor {
public:
    // Throws std::runtime_error naming the file if it is not a readable sgnn model.
    explicit Predictor(const std::string& model_path);
    ~Predictor();
    Predictor(const Predictor&) = delete;
    Predictor& operator=(const Predictor&) = delete;

    int n_inputs() const;
    const std::vector<std::string>& target_names() const;
    const std::vector<std::string>& class_names() const;

    // model.head of the file: "mean", or a posterior density head ("flow", "mixture").
    const std::string& head() const;
    bool has_density() const;

    // `rows` samples of n_inputs() values each, as the network's inputs appear in
    // batches (after obs.transform). Returns rows x (targets + classes): the targets'
    // posterior means in their own units (a density head: the mean of kMeanDraws
    // draws), then the class probabilities (softmax of the logits).
    std::vector<double> predict(const float* inputs, std::int64_t rows) const;
    static constexpr std::int64_t kMeanDraws = 1000;

    // Density heads: `n` posterior draws of the targets for each row, in their own
    // units, rows x n x targets; every draw lies inside the priors' support. The same
    // seed gives the same draws. Throws std::runtime_error for a mean head.
    std::vector<double> sample(const float* inputs, std::int64_t rows, std::int64_t n, std::uint64_t seed) const;
    // Density heads: log p(targets | inputs) per row, targets rows x n_targets in their
    // own units (the transforms' Jacobians included). Throws for a mean head.
    std::vector<double> log_density(const float* inputs, const double* targets, std::int64_t rows) const;
    // The penultimate layer (the embedding attribution searches in), rows x width.
    std::vector<float> embed(const float* inputs, std::int64_t rows) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sgnn::train
