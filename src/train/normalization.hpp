// Standardization of network inputs and targets. Private to the train module.
//
// Inputs get one scalar mean and standard deviation (the curve's shape must survive);
// targets one pair each, over the samples that have the target. With a density head
// the targets are first mapped to the real line (train/target_transforms.hpp) and the
// statistics are those of the transformed values; the mean head uses none. Every trainer computes
// the same statistics from the `norm` stream, so replicas agree without talking; a
// resumed run takes them from its checkpoint (state/restore), and model.h5 carries
// them so that predictions map back to target units.
#pragma once

#include "sgnn/checkpoint/schema.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/sim/task.hpp"
#include "target_transforms.hpp"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace sgnn::train {

struct Normalization {
    float input_mean = 0.0f, input_std = 1.0f;
    std::vector<float> target_mean, target_std;
    TargetTransforms transforms;  // empty: none (the mean head)

    // From `samples` samples of the norm stream. Throws std::runtime_error when too few
    // samples are valid, or a target is too rare, saying what to change.
    static Normalization compute(const sim::Task& task, std::uint64_t seed, int samples,
                                 TargetTransforms transforms = {});
    // From a checkpoint (checkpoint::schema::normalization); throws ConfigError naming the
    // file when the statistics are missing or are for another number of targets. The
    // transforms follow from the configuration, as they did for the checkpointed run.
    static Normalization restore(const checkpoint::Contents& checkpoint, int n_targets,
                                 TargetTransforms transforms = {});
    // The checkpoint datasets restore() reads back.
    std::vector<io::Dataset> state() const;
    // The /normalization arrays of model.h5, and back (throws std::runtime_error naming
    // `path` when they are not those of n_targets targets).
    std::vector<io::NamedArray> model_file_arrays() const;
    static Normalization from_model_file(const std::vector<io::NamedArray>& arrays, std::size_t n_targets,
                                         TargetTransforms transforms, const std::string& path);

    // Rows of raw inputs (targets), standardized, on `device`.
    torch::Tensor standardize_inputs(const float* data, std::int64_t rows, std::int64_t n_inputs,
                                     torch::Device device) const;
    torch::Tensor standardize_targets(const float* data, std::int64_t rows, torch::Device device) const;
    // Targets in their units (rows x targets, float or double), transformed and
    // standardized in their own precision.
    torch::Tensor standardize_targets(const torch::Tensor& targets, torch::Device device) const;
    // Density heads: standardized draws u (rows x targets) back to target units, in
    // double; and per row log |du/dx| at x in target units, so that
    // log p(x) = log p(u) + log_abs_det_jacobian(x).
    torch::Tensor targets_from_standardized(const torch::Tensor& u) const;
    torch::Tensor log_abs_det_jacobian(const torch::Tensor& x) const;
};

}  // namespace sgnn::train
