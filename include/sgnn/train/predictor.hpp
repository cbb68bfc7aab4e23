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

    // `rows` samples of n_inputs() values each, as the network's inputs appear in
    // batches (after obs.transform). Returns rows x (targets + classes): targets in
    // their own units, then the class probabilities (softmax of the logits).
    std::vector<double> predict(const float* inputs, std::int64_t rows) const;
    // The penultimate layer (the embedding attribution searches in), rows x width.
    std::vector<float> embed(const float* inputs, std::int64_t rows) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sgnn::train
