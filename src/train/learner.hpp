// One data-parallel replica: network, AdamW, gradient clipping and the bucketed
// gradient allreduce. Every replica starts from trainer 0's parameters and applies
// the same summed gradient, so replicas stay bitwise identical.
#pragma once

#include "grad_buckets.hpp"
#include "loss.hpp"
#include "models.hpp"
#include "sgnn/io/h5_datasets.hpp"
#include "sgnn/io/model_file.hpp"
#include "sgnn/train/allreduce.hpp"
#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sgnn::train {

class Learner {
public:
    // `trainers` is the communicator of all replicas (MPI_COMM_NULL or size 1: alone).
    Learner(const ModelConfig& model, const OptimizerConfig& optimizer, const LossSpec& loss, int n_inputs,
            MPI_Comm trainers, torch::Device device, std::uint64_t seed);

    // One optimizer step. The loss is the per-sample loss (train/loss.hpp) summed over
    // the local batch and divided by `nominal_batch`, so that the average over replicas
    // equals the loss of the union of their batches. `labels` may be undefined when
    // nothing is classified. Returns the local per-sample mean loss.
    double step(const torch::Tensor& inputs, const torch::Tensor& targets, const torch::Tensor& labels,
                double learning_rate, std::int64_t nominal_batch);
    // The linear head's outputs for standardized inputs (train/models.hpp), no gradients.
    torch::Tensor predict(const torch::Tensor& inputs);
    // Density heads: `n` posterior draws of the standardized targets for each row of
    // the inputs, (rows * n) x n_targets; and log p(u | inputs) per row.
    torch::Tensor sample(const torch::Tensor& inputs, std::int64_t n, at::Generator& generator);
    torch::Tensor log_prob(const torch::Tensor& inputs, const torch::Tensor& u);
    bool has_density() const { return loss_.density; }

    std::vector<io::NamedArray> parameter_arrays() const;
    // Parameters and AdamW state by name, the checkpoint part at
    // checkpoint::schema::parameter and optimizer_state.
    std::vector<io::Dataset> state() const;
    // Restores what state() wrote (every replica loads the same bytes). Throws
    // std::runtime_error naming a missing or mis-shaped entry.
    void restore(const std::map<std::string, io::Dataset>& datasets);
    // SHA-256 of the float32 parameter bytes, in named_parameters() order.
    std::string parameter_sha256() const;
    // The first parameter holding a NaN or an infinity, or "" when all are finite.
    std::string first_non_finite_parameter() const;
    torch::Device device() const { return device_; }

private:
    torch::Device device_;
    LossSpec loss_;
    std::shared_ptr<Network> network_;
    std::vector<torch::Tensor> parameters_;
    std::unique_ptr<torch::optim::AdamW> optimizer_;
    AllreduceTransport transport_;
    std::unique_ptr<GradientBucketer> bucketer_;
    double grad_clip_;
};

}  // namespace sgnn::train
