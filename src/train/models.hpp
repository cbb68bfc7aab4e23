// Networks (LibTorch). Private to the train module.
#pragma once

#include "density.hpp"
#include "sgnn/train/config.hpp"

#include <torch/torch.h>

#include <memory>

namespace sgnn::train {

// Every network is an embedding followed by heads; the embedding (the penultimate
// layer) is what back-to-simulation attribution searches in. The linear head gives the
// standardized posterior means of the targets (model.head = mean) and the logits of
// the mechanisms; with a density head (flow, mixture) the targets' posterior is the
// density head's, conditioned on the embedding, and the linear head gives the logits
// only.
class Network : public torch::nn::Module {
public:
    virtual torch::Tensor embed(const torch::Tensor& inputs) = 0;
    // The linear head's outputs (rows x 0 when it has none: a density head, no classes).
    torch::Tensor outputs(const torch::Tensor& embedding) {
        return head_ ? head_->forward(embedding) : embedding.new_zeros({embedding.size(0), 0});
    }
    torch::Tensor forward(const torch::Tensor& inputs) { return outputs(embed(inputs)); }
    // The density head; null for model.head = mean.
    DensityHead* density() const { return density_.get(); }

protected:
    // Registers the heads after the embedding's layers (named "head" and "density").
    void add_heads(const ModelConfig& config, int width, int n_outputs, int n_density) {
        if (n_outputs > 0) head_ = register_module("head", torch::nn::Linear(width, n_outputs));
        if (n_density > 0) density_ = register_module("density", make_density_head(config, n_density, width));
    }

private:
    torch::nn::Linear head_{nullptr};
    std::shared_ptr<DensityHead> density_;
};

// Builds the network named by config.type with `n_outputs` linear outputs and, for a
// density head, a density over `n_density` targets; throws ConfigError otherwise.
std::shared_ptr<Network> make_network(const ModelConfig& config, int n_inputs, int n_outputs, int n_density = 0);

}  // namespace sgnn::train
